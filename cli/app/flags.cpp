#include "cli/app/flags.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "cli/app/errors.hpp"

namespace berth::cli {

Flag& FlagSet::add(Flag f) {
  flags_.push_back(std::make_unique<Flag>(std::move(f)));
  return *flags_.back();
}

Flag& FlagSet::add_bool(std::string name, char shorthand, bool* dst, std::string usage) {
  return add(Flag{.name = std::move(name), .shorthand = shorthand, .kind = FlagKind::kBool,
                  .type_name = "", .usage = std::move(usage),
                  .default_text = *dst ? "true" : "", .target = dst});
}

Flag& FlagSet::add_string(std::string name, char shorthand, std::string* dst, std::string usage,
                          std::string type_name) {
  return add(Flag{.name = std::move(name), .shorthand = shorthand, .kind = FlagKind::kString,
                  .type_name = std::move(type_name), .usage = std::move(usage),
                  .default_text = dst->empty() ? "" : "\"" + *dst + "\"", .target = dst});
}

Flag& FlagSet::add_list(std::string name, char shorthand, std::vector<std::string>* dst,
                        std::string usage, std::string type_name) {
  return add(Flag{.name = std::move(name), .shorthand = shorthand, .kind = FlagKind::kList,
                  .type_name = std::move(type_name), .usage = std::move(usage), .target = dst});
}

Flag& FlagSet::add_int(std::string name, char shorthand, long long* dst, std::string usage,
                       std::string type_name) {
  return add(Flag{.name = std::move(name), .shorthand = shorthand, .kind = FlagKind::kInt,
                  .type_name = std::move(type_name), .usage = std::move(usage),
                  .default_text = *dst ? std::to_string(*dst) : "", .target = dst});
}

Flag& FlagSet::add_double(std::string name, char shorthand, double* dst, std::string usage,
                          std::string type_name) {
  return add(Flag{.name = std::move(name), .shorthand = shorthand, .kind = FlagKind::kDouble,
                  .type_name = std::move(type_name), .usage = std::move(usage), .target = dst});
}

const Flag* FlagSet::find(std::string_view name) const {
  for (auto& f : flags_)
    if (f->name == name) return f.get();
  return nullptr;
}

Flag* FlagSet::find_short(char c) {
  for (auto& f : flags_)
    if (f->shorthand == c) return f.get();
  return nullptr;
}

bool FlagSet::has_shorthand(char c) const {
  return std::any_of(flags_.begin(), flags_.end(), [c](auto& f) { return f->shorthand == c; });
}

bool FlagSet::changed(std::string_view name) const {
  const Flag* f = find(name);
  return f && f->changed;
}

bool FlagSet::empty() const { return flags_.empty(); }

void FlagSet::set(Flag& f, const std::string& value) {
  auto bad = [&] {
    return UsageError("invalid argument \"" + value + "\" for \"" +
                      (f.shorthand ? std::string("-") + f.shorthand + ", " : std::string()) +
                      "--" + f.name + "\" flag: strconv.Parse: parsing \"" + value +
                      "\": invalid syntax");
  };
  switch (f.kind) {
    case FlagKind::kBool: {
      bool* b = static_cast<bool*>(f.target);
      if (value == "true" || value == "1" || value == "t" || value == "T" || value == "TRUE" ||
          value == "True")
        *b = true;
      else if (value == "false" || value == "0" || value == "f" || value == "F" ||
               value == "FALSE" || value == "False")
        *b = false;
      else
        throw bad();
      break;
    }
    case FlagKind::kString:
      *static_cast<std::string*>(f.target) = value;
      break;
    case FlagKind::kList:
      static_cast<std::vector<std::string>*>(f.target)->push_back(value);
      break;
    case FlagKind::kInt: {
      long long v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size()) throw bad();
      *static_cast<long long*>(f.target) = v;
      break;
    }
    case FlagKind::kDouble: {
      char* end = nullptr;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end) throw bad();
      *static_cast<double*>(f.target) = v;
      break;
    }
  }
  f.changed = true;
  if (f.on_set) f.on_set(value);
}

std::vector<std::string> FlagSet::parse(const std::vector<std::string>& args, bool interspersed) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      if (!interspersed) {
        positional.insert(positional.end(), args.begin() + i, args.end());
        break;
      }
      positional.push_back(a);
      continue;
    }
    if (a[1] == '-') {
      std::string body = a.substr(2);
      std::string name = body, value;
      bool has_value = false;
      if (auto eq = body.find('='); eq != std::string::npos) {
        name = body.substr(0, eq);
        value = body.substr(eq + 1);
        has_value = true;
      }
      Flag* f = nullptr;
      for (auto& fl : flags_)
        if (fl->name == name) f = fl.get();
      if (!f) throw UsageError("unknown flag: --" + name);
      if (f->kind == FlagKind::kBool) {
        set(*f, has_value ? value : "true");
      } else if (has_value) {
        set(*f, value);
      } else if (i + 1 < args.size()) {
        set(*f, args[++i]);
      } else {
        throw UsageError("flag needs an argument: --" + name);
      }
      continue;
    }
    // Shorthand cluster: -it, -e VAL, -eVAL, -e=VAL, -p=false
    std::string cluster = a.substr(1);
    for (size_t k = 0; k < cluster.size(); ++k) {
      char c = cluster[k];
      Flag* f = find_short(c);
      if (!f) {
        throw UsageError(std::string("unknown shorthand flag: '") + c + "' in -" + cluster);
      }
      std::string rest = cluster.substr(k + 1);
      if (f->kind == FlagKind::kBool) {
        if (!rest.empty() && rest[0] == '=') {
          set(*f, rest.substr(1));
          break;
        }
        set(*f, "true");
        continue;
      }
      if (!rest.empty()) {
        set(*f, rest[0] == '=' ? rest.substr(1) : rest);
      } else if (i + 1 < args.size()) {
        set(*f, args[++i]);
      } else {
        throw UsageError(std::string("flag needs an argument: '") + c + "' in -" + c);
      }
      break;
    }
  }
  return positional;
}

std::string FlagSet::usages() const {
  std::vector<std::pair<std::string, const Flag*>> lines;
  size_t width = 0;
  std::vector<const Flag*> sorted;
  for (auto& f : flags_)
    if (!f->hidden) sorted.push_back(f.get());
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (auto* f : sorted) {
    std::string left = f->shorthand ? std::string("  -") + f->shorthand + ", --" : "      --";
    left += f->name;
    if (!f->type_name.empty()) left += " " + f->type_name;
    width = std::max(width, left.size());
    lines.emplace_back(left, f);
  }
  std::string out;
  for (auto& [left, f] : lines) {
    out += left + std::string(width - left.size() + 3, ' ') + f->usage;
    if (!f->default_text.empty()) out += " (default " + f->default_text + ")";
    out += "\n";
  }
  return out;
}

}  // namespace berth::cli
