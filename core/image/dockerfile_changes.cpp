#include "core/image/dockerfile_changes.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <string>
#include <vector>

namespace json = boost::json;

namespace berth::core::image {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Error invalid(std::string_view what) {
  return make_error(ErrorCode::kInvalidArgument, std::string(what));
}

// Shell-like words: whitespace separates, quotes group, backslash escapes.
Result<std::vector<std::string>> words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        cur.push_back(s[++i]);
      } else {
        cur.push_back(c);
      }
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) {
        out.push_back(std::move(cur));
        cur.clear();
        in_word = false;
      }
      continue;
    }
    in_word = true;
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur.push_back(s[++i]);
    } else {
      cur.push_back(c);
    }
  }
  if (quote != 0) return invalid("unterminated quote in \"" + std::string(s) + "\"");
  if (in_word) out.push_back(std::move(cur));
  return out;
}

// ["a","b"] (exec form) or nullopt when the text is not a JSON array of strings.
std::optional<json::array> json_strings(std::string_view s) {
  if (s.empty() || s.front() != '[') return std::nullopt;
  json::error_code ec;
  auto v = json::parse(s, ec);
  if (ec || !v.is_array()) return std::nullopt;
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return std::nullopt;
  }
  return v.get_array();
}

json::array command(std::string_view rest) {
  if (auto exec = json_strings(rest)) return *exec;
  return json::array{json::string("/bin/sh"), json::string("-c"), json::string(rest)};
}

Result<std::vector<std::pair<std::string, std::string>>> key_values(std::string_view rest,
                                                                     std::string_view instr) {
  std::vector<std::pair<std::string, std::string>> out;
  auto ws = words(rest);
  if (!ws) return ws.error();
  if (ws->empty()) return invalid(std::string(instr) + " requires at least one argument");
  bool has_eq = ws->front().find('=') != std::string::npos;
  if (!has_eq) {
    // Legacy form: "ENV KEY some value with spaces".
    size_t sp = rest.find_first_of(" \t");
    if (sp == std::string_view::npos) {
      return invalid(std::string(instr) + " must have two arguments");
    }
    out.emplace_back(std::string(trim(rest.substr(0, sp))), std::string(trim(rest.substr(sp))));
    return out;
  }
  for (const auto& w : *ws) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid(std::string(instr) + ": \"" + w + "\" is not KEY=VALUE");
    }
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

json::object& object_field(json::object& config, std::string_view key) {
  auto& v = config[key];
  if (!v.is_object()) v = json::object();
  return v.get_object();
}

}  // namespace

Status apply_change(json::object& config, std::string_view line) {
  line = trim(line);
  size_t sp = line.find_first_of(" \t");
  std::string instr(line.substr(0, sp));
  for (auto& c : instr) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : trim(line.substr(sp));

  json::object updated = config;  // all or nothing
  if (instr == "CMD") {
    updated["Cmd"] = command(rest);
  } else if (instr == "ENTRYPOINT") {
    updated["Entrypoint"] = command(rest);
  } else if (instr == "ENV") {
    auto kvs = key_values(rest, "ENV");
    if (!kvs) return kvs.error();
    json::array env;
    if (auto* e = updated.if_contains("Env"); e != nullptr && e->is_array()) env = e->get_array();
    for (const auto& [k, v] : *kvs) {
      std::string entry = k + "=" + v;
      bool replaced = false;
      for (auto& existing : env) {
        std::string_view s = existing.as_string();
        if (s.substr(0, s.find('=')) == k) {
          existing = entry;
          replaced = true;
        }
      }
      if (!replaced) env.emplace_back(entry);
    }
    updated["Env"] = std::move(env);
  } else if (instr == "LABEL") {
    auto kvs = key_values(rest, "LABEL");
    if (!kvs) return kvs.error();
    auto& labels = object_field(updated, "Labels");
    for (const auto& [k, v] : *kvs) labels[k] = v;
  } else if (instr == "EXPOSE") {
    auto ws = words(rest);
    if (!ws) return ws.error();
    if (ws->empty()) return invalid("EXPOSE requires at least one argument");
    auto& ports = object_field(updated, "ExposedPorts");
    for (auto port : *ws) {
      std::string proto = "tcp";
      if (auto slash = port.find('/'); slash != std::string::npos) {
        proto = port.substr(slash + 1);
        port = port.substr(0, slash);
      }
      if (port.empty() || port.find_first_not_of("0123456789-") != std::string::npos ||
          (proto != "tcp" && proto != "udp" && proto != "sctp")) {
        return invalid("EXPOSE: invalid port \"" + port + "/" + proto + "\"");
      }
      ports[port + "/" + proto] = json::object();
    }
  } else if (instr == "USER" || instr == "STOPSIGNAL") {
    if (rest.empty()) return invalid(instr + " requires exactly one argument");
    updated[instr == "USER" ? "User" : "StopSignal"] = std::string(rest);
  } else if (instr == "WORKDIR") {
    if (rest.empty()) return invalid("WORKDIR requires exactly one argument");
    std::string dir(rest);
    if (dir.front() != '/') {
      std::string base;
      if (auto* w = updated.if_contains("WorkingDir"); w != nullptr && w->is_string()) {
        base = std::string(w->get_string());
      }
      dir = (base.empty() ? "/" : base + (base.back() == '/' ? "" : "/")) + dir;
    }
    updated["WorkingDir"] = dir;
  } else if (instr == "VOLUME") {
    auto& vols = object_field(updated, "Volumes");
    if (auto arr = json_strings(rest)) {
      for (const auto& v : *arr) vols[v.get_string()] = json::object();
    } else {
      auto ws = words(rest);
      if (!ws) return ws.error();
      if (ws->empty()) return invalid("VOLUME requires at least one argument");
      for (const auto& w : *ws) vols[w] = json::object();
    }
  } else if (instr == "ONBUILD") {
    if (rest.empty()) return invalid("ONBUILD requires an instruction");
    json::array onbuild;
    if (auto* o = updated.if_contains("OnBuild"); o != nullptr && o->is_array()) onbuild = o->get_array();
    onbuild.emplace_back(std::string(rest));
    updated["OnBuild"] = std::move(onbuild);
  } else {
    return invalid(instr.empty() ? std::string("empty change")
                                 : instr + " is not a valid change command");
  }
  config = std::move(updated);
  return {};
}

}  // namespace berth::core::image
