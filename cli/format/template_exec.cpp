// Evaluating a --format template's tree: Go's truthiness and comparisons, variables, range and
// with scopes, and the functions docker adds (json, join, split, ...) with Go's builtins.
#include "cli/format/template_tree.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <vector>

#include "cli/format/json_text.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli::tmpl {

namespace json = boost::json;

namespace {

bool truthy(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return false;
    case json::kind::bool_: return v.get_bool();
    case json::kind::int64: return v.get_int64() != 0;
    case json::kind::uint64: return v.get_uint64() != 0;
    case json::kind::double_: return v.get_double() != 0;
    case json::kind::string: return !v.get_string().empty();
    case json::kind::array: return !v.get_array().empty();
    case json::kind::object: return !v.get_object().empty();
  }
  return false;
}

bool is_number(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }
double num(const json::value& v) {
  return v.is_int64() ? static_cast<double>(v.get_int64())
         : v.is_uint64() ? static_cast<double>(v.get_uint64())
         : v.is_double() ? v.get_double()
                         : 0;
}

int compare(const json::value& a, const json::value& b, const char* fn) {
  if (is_number(a) && is_number(b)) {
    double x = num(a), y = num(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    auto x = a.get_string(), y = b.get_string();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_bool() && b.is_bool() && std::string(fn) == "eq")
    return a.get_bool() == b.get_bool() ? 0 : 1;
  if (a.is_null() && b.is_null()) return 0;
  throw TemplateError(std::string("template: :1: error calling ") + fn +
                      ": incompatible types for comparison");
}

std::string to_text(const json::value& v) { return go_print(v); }

class Exec {
 public:
  Exec(const json::value& root, bool header, bool context)
      : header_(header), context_(context) {
    vars_.push_back({"$", root});
  }

  void run(const Node& n, const json::value& dot, std::string& out) {
    switch (n.kind) {
      case NodeKind::kList:
        for (auto& c : n.list) run(*c, dot, out);
        break;
      case NodeKind::kText:
        out += n.text;
        break;
      case NodeKind::kAction: {
        json::value v = pipeline(*n.pipe, dot);
        if (n.pipe->decl.empty()) out += to_text(v);
        break;
      }
      case NodeKind::kIf:
      case NodeKind::kWith: {
        size_t mark = vars_.size();
        json::value v = pipeline(*n.pipe, dot);
        if (truthy(v)) {
          for (auto& c : n.list) run(*c, n.kind == NodeKind::kWith ? v : dot, out);
        } else {
          for (auto& c : n.else_list) run(*c, dot, out);
        }
        vars_.resize(mark);
        break;
      }
      case NodeKind::kRange: {
        size_t mark = vars_.size();
        Pipeline p = *n.pipe;
        auto decl = p.decl;
        p.decl.clear();
        json::value v = pipeline(p, dot);
        auto body = [&](const json::value& key, const json::value& elem) {
          size_t inner = vars_.size();
          if (decl.size() == 1) vars_.push_back({decl[0], elem});
          if (decl.size() == 2) {
            vars_.push_back({decl[0], key});
            vars_.push_back({decl[1], elem});
          }
          for (auto& c : n.list) run(*c, elem, out);
          vars_.resize(inner);
        };
        bool any = false;
        if (v.is_array()) {
          int64_t i = 0;
          for (auto& e : v.get_array()) {
            any = true;
            body(json::value(i++), e);
          }
        } else if (v.is_object()) {
          std::vector<std::string> keys;
          for (auto& kv : v.get_object()) keys.emplace_back(kv.key());
          std::sort(keys.begin(), keys.end());
          for (auto& k : keys) {
            any = true;
            body(json::string(k), v.get_object().at(k));
          }
        } else if (v.is_int64() && v.get_int64() > 0) {
          for (int64_t i = 0; i < v.get_int64(); ++i) {
            any = true;
            body(json::value(i), json::value(i));
          }
        } else if (!v.is_null() && !(v.is_int64() || v.is_uint64())) {
          throw TemplateError("template: :1: range can't iterate over " + to_text(v));
        }
        if (!any)
          for (auto& c : n.else_list) run(*c, dot, out);
        vars_.resize(mark);
        break;
      }
    }
  }

 private:
  json::value pipeline(const Pipeline& p, const json::value& dot) {
    json::value result;
    bool has_final = false;
    for (auto& cmd : p.cmds) {
      result = command(cmd, dot, has_final ? &result : nullptr);
      has_final = true;
    }
    if (!p.decl.empty()) vars_.push_back({p.decl.back(), result});
    return result;
  }

  json::value field_chain(json::value v, const std::vector<std::string>& fields) {
    for (auto& f : fields) {
      if (v.is_object()) {
        auto* found = v.get_object().if_contains(f);
        if (!found) {
          throw TemplateError("template: :1: executing \"\" at <." + f +
                              ">: map has no entry for key \"" + f + "\"");
        }
        json::value next = *found;
        v = std::move(next);
      } else if (v.is_null()) {
        return nullptr;
      } else {
        throw TemplateError("template: :1: executing \"\" at <." + f +
                            ">: can't evaluate field " + f + " in type " +
                            (v.is_string() ? "string" : v.is_array() ? "[]interface {}" : "value"));
      }
    }
    return v;
  }

  json::value term(const Term& t, const json::value& dot) {
    switch (t.kind) {
      case TermKind::kDot: return dot;
      case TermKind::kField: return field_chain(dot, t.fields);
      case TermKind::kVariable: {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == t.name) return field_chain(it->second, t.fields);
        fail("undefined variable \"" + t.name + "\"");
      }
      case TermKind::kLiteral: return t.literal;
      case TermKind::kPipe: return field_chain(pipeline(*t.pipe, dot), t.fields);
      case TermKind::kIdent: return call(t.name, {});
    }
    return nullptr;
  }

  json::value command(const Cmd& cmd, const json::value& dot, const json::value* final) {
    const Term& first = cmd.args[0];
    if (first.kind == TermKind::kIdent) {
      std::vector<json::value> args;
      for (size_t i = 1; i < cmd.args.size(); ++i) args.push_back(term(cmd.args[i], dot));
      if (final) args.push_back(*final);
      return call(first.name, args);
    }
    if (cmd.args.size() > 1 || final) {
      fail("can't give argument to non-function");
    }
    return term(first, dot);
  }

  static std::string str(const json::value& v) { return to_text(v); }

  json::value call(const std::string& fn, const std::vector<json::value>& a) {
    auto need = [&](size_t n) {
      if (a.size() != n)
        throw TemplateError("template: :1: wrong number of args for " + fn + ": want " +
                            std::to_string(n) + " got " + std::to_string(a.size()));
    };
    if (header_) {
      // docker's HeaderFunctions keep the header text intact.
      if (fn == "json" || fn == "title" || fn == "lower" || fn == "upper") {
        need(1);
        return a[0];
      }
      if (fn == "split" || fn == "join" || fn == "truncate") {
        need(2);
        return a[0];
      }
    }
    if (fn == "json") {
      need(1);
      return json::string(go_json(a[0], context_ && a[0].is_object()));
    }
    if (fn == "split") {
      need(2);
      json::array arr;
      for (auto& part : split(str(a[0]), str(a[1]))) arr.emplace_back(json::string(part));
      return arr;
    }
    if (fn == "join") {
      need(2);
      std::vector<std::string> parts;
      if (a[0].is_array())
        for (auto& e : a[0].get_array()) parts.push_back(str(e));
      return json::string(join(parts, str(a[1])));
    }
    if (fn == "lower") { need(1); return json::string(to_lower(str(a[0]))); }
    if (fn == "upper") { need(1); return json::string(to_upper(str(a[0]))); }
    if (fn == "title") {
      need(1);
      std::string s = str(a[0]);
      bool start = true;
      for (auto& c : s) {
        if (start && std::isalpha(static_cast<unsigned char>(c)))
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        start = !std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '\'';
      }
      return json::string(s);
    }
    if (fn == "pad") {
      need(3);
      std::string s = str(a[0]);
      if (s.empty()) return json::string(s);
      return json::string(std::string(static_cast<size_t>(num(a[1])), ' ') + s +
                          std::string(static_cast<size_t>(num(a[2])), ' '));
    }
    if (fn == "truncate") {
      need(2);
      std::string s = str(a[0]);
      auto n = static_cast<size_t>(num(a[1]));
      if (s.size() >= n) s.resize(n);
      return json::string(s);
    }
    if (fn == "index") {
      if (a.empty()) need(1);
      json::value v = a[0];
      for (size_t i = 1; i < a.size(); ++i) {
        if (v.is_object()) {
          auto* f = v.get_object().if_contains(str(a[i]));
          // A missing key is the zero value; for docker's string maps that prints as "".
          json::value next = f ? *f : json::value(json::string());
          v = std::move(next);
        } else if (v.is_array()) {
          auto idx = static_cast<int64_t>(num(a[i]));
          if (idx < 0 || idx >= static_cast<int64_t>(v.get_array().size()))
            throw TemplateError("template: :1: error calling index: index out of range: " +
                                std::to_string(idx));
          json::value next = v.get_array()[idx];
          v = std::move(next);
        } else if (v.is_null()) {
          return json::string();
        } else {
          throw TemplateError("template: :1: error calling index: can't index item of type " +
                              std::string(v.is_string() ? "string" : "value"));
        }
      }
      return v;
    }
    if (fn == "len") {
      need(1);
      if (a[0].is_string()) return static_cast<int64_t>(a[0].get_string().size());
      if (a[0].is_array()) return static_cast<int64_t>(a[0].get_array().size());
      if (a[0].is_object()) return static_cast<int64_t>(a[0].get_object().size());
      if (a[0].is_null()) return 0;
      throw TemplateError("template: :1: error calling len: len of type " + str(a[0]));
    }
    if (fn == "eq") {
      if (a.size() < 2) need(2);
      for (size_t i = 1; i < a.size(); ++i)
        if (compare(a[0], a[i], "eq") == 0) return true;
      return false;
    }
    if (fn == "ne") { need(2); return compare(a[0], a[1], "ne") != 0; }
    if (fn == "lt") { need(2); return compare(a[0], a[1], "lt") < 0; }
    if (fn == "le") { need(2); return compare(a[0], a[1], "le") <= 0; }
    if (fn == "gt") { need(2); return compare(a[0], a[1], "gt") > 0; }
    if (fn == "ge") { need(2); return compare(a[0], a[1], "ge") >= 0; }
    if (fn == "not") { need(1); return !truthy(a[0]); }
    if (fn == "and") {
      if (a.empty()) need(1);
      for (auto& v : a)
        if (!truthy(v)) return v;
      return a.back();
    }
    if (fn == "or") {
      if (a.empty()) need(1);
      for (auto& v : a)
        if (truthy(v)) return v;
      return a.back();
    }
    if (fn == "print" || fn == "println") {
      std::string s;
      for (size_t i = 0; i < a.size(); ++i) {
        // Sprint adds spaces between operands when neither is a string; Sprintln always.
        if (i && (fn == "println" || (!a[i].is_string() && !a[i - 1].is_string()))) s += ' ';
        s += str(a[i]);
      }
      if (fn == "println") s += '\n';
      return json::string(s);
    }
    if (fn == "printf") {
      if (a.empty()) need(1);
      std::string f = str(a[0]), s;
      size_t argi = 1;
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '%' || i + 1 >= f.size()) {
          s += f[i];
          continue;
        }
        char verb = f[++i];
        if (verb == '%') {
          s += '%';
          continue;
        }
        if (argi >= a.size()) {
          s += std::string("%!") + verb + "(MISSING)";
          continue;
        }
        const json::value& v = a[argi++];
        if (verb == 'q') s += go_quote(str(v));
        else s += str(v);
      }
      return json::string(s);
    }
    fail("function \"" + fn + "\" not defined");
  }

  bool header_;
  bool context_;
  std::vector<std::pair<std::string, json::value>> vars_;
};

}  // namespace

void execute_tree(const Node& root, const json::value& dot, bool header_mode, bool context_mode,
                  std::string& out) {
  Exec ex(dot, header_mode, context_mode);
  ex.run(root, dot, out);
}

}  // namespace berth::cli::tmpl
