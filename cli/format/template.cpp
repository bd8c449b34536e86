#include "cli/format/template.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <vector>

#include "cli/format/json_text.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace tmpl {

struct Pipeline;

enum class TermKind { kDot, kField, kVariable, kLiteral, kIdent, kPipe };

struct Term {
  TermKind kind = TermKind::kDot;
  std::string name;                 // variable or function name
  std::vector<std::string> fields;  // .A.B chain applied after the base
  json::value literal;
  std::shared_ptr<Pipeline> pipe;
};

struct Cmd {
  std::vector<Term> args;
};

struct Pipeline {
  std::vector<std::string> decl;  // variables declared with :=
  std::vector<Cmd> cmds;
};

enum class NodeKind { kList, kText, kAction, kIf, kRange, kWith };

struct Node {
  NodeKind kind = NodeKind::kList;
  std::string text;
  std::shared_ptr<Pipeline> pipe;
  std::vector<std::shared_ptr<Node>> list, else_list;
};

}  // namespace tmpl

using namespace tmpl;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw TemplateError("template: :1: " + msg); }

// ------------------------------------------------------------------------------------------
// Lexing the source into text and action items.

struct Item {
  bool action = false;
  std::string text;
};

std::vector<Item> split_items(std::string_view src) {
  std::vector<Item> items;
  size_t pos = 0;
  bool trim_next_text = false;
  while (pos <= src.size()) {
    size_t open = src.find("{{", pos);
    std::string text(src.substr(pos, open == std::string_view::npos ? std::string_view::npos
                                                                       : open - pos));
    if (trim_next_text) {
      size_t b = 0;
      while (b < text.size() && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
      text.erase(0, b);
    }
    if (open == std::string_view::npos) {
      if (!text.empty()) items.push_back({false, text});
      break;
    }
    size_t inner = open + 2;
    if (inner + 1 < src.size() && src[inner] == '-' &&
        std::isspace(static_cast<unsigned char>(src[inner + 1]))) {
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
      inner += 2;
    }
    if (!text.empty()) items.push_back({false, text});
    // Find the closing braces, skipping quoted strings.
    size_t i = inner;
    char quote = 0;
    for (; i < src.size(); ++i) {
      char c = src[i];
      if (quote) {
        if (c == '\\' && quote == '"') ++i;
        else if (c == quote) quote = 0;
        continue;
      }
      if (c == '"' || c == '`' || c == '\'') quote = c;
      else if (c == '}' && i + 1 < src.size() && src[i + 1] == '}') break;
    }
    if (i >= src.size()) fail("unclosed action");
    size_t end = i;
    trim_next_text = false;
    if (end >= 2 && src[end - 1] == '-' && std::isspace(static_cast<unsigned char>(src[end - 2]))) {
      trim_next_text = true;
      end -= 2;
    }
    std::string action(src.substr(inner, end > inner ? end - inner : 0));
    // Comments {{/* ... */}} produce nothing.
    std::string t = trim(action);
    if (!(t.starts_with("/*") && t.ends_with("*/"))) items.push_back({true, action});
    pos = i + 2;
  }
  return items;
}

// ------------------------------------------------------------------------------------------
// Tokens inside an action.

enum class Tok { kField, kVar, kString, kNumber, kIdent, kLParen, kRParen, kPipe, kDecl, kAssign,
                 kComma, kEnd };

struct Token {
  Tok kind;
  std::string text;
  bool adjacent = false;  // no space before it (for `(...).Field`)
};

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  bool spaced = true;
  auto ident_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      spaced = true;
      continue;
    }
    Token t{Tok::kEnd, "", !spaced};
    spaced = false;
    if (c == '.' && (i + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && (ident_char(s[j]) || s[j] == '.')) ++j;
      t = {Tok::kField, s.substr(i, j - i), t.adjacent};
      i = j;
    } else if (c == '$') {
      size_t j = i + 1;
      while (j < s.size() && (ident_char(s[j]) || s[j] == '.')) ++j;
      t = {Tok::kVar, s.substr(i, j - i), t.adjacent};
      i = j;
    } else if (c == '"' || c == '`') {
      std::string val;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (c == '"' && s[j] == '\\' && j + 1 < s.size()) {
          char e = s[++j];
          switch (e) {
            case 'n': val += '\n'; break;
            case 't': val += '\t'; break;
            case 'r': val += '\r'; break;
            case '\\': val += '\\'; break;
            case '"': val += '"'; break;
            default: val += '\\'; val += e;
          }
        } else {
          val += s[j];
        }
      }
      if (j >= s.size()) fail("unterminated quoted string");
      t = {Tok::kString, val, t.adjacent};
      i = j + 1;
    } else if (c == '\'') {
      size_t j = s.find('\'', i + 1);
      if (j == std::string::npos) fail("unterminated character constant");
      std::string ch = s.substr(i + 1, j - i - 1);
      t = {Tok::kNumber, std::to_string(ch.empty() ? 0 : static_cast<unsigned char>(ch[0])),
           t.adjacent};
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '+' || c == '.') && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
                              s[j] == '_'))
        ++j;
      t = {Tok::kNumber, s.substr(i, j - i), t.adjacent};
      i = j;
    } else if (ident_char(c)) {
      size_t j = i;
      while (j < s.size() && ident_char(s[j])) ++j;
      t = {Tok::kIdent, s.substr(i, j - i), t.adjacent};
      i = j;
    } else if (c == '(') {
      t.kind = Tok::kLParen;
      ++i;
    } else if (c == ')') {
      t.kind = Tok::kRParen;
      ++i;
    } else if (c == '|') {
      t.kind = Tok::kPipe;
      ++i;
    } else if (c == ',') {
      t.kind = Tok::kComma;
      ++i;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
      t.kind = Tok::kDecl;
      i += 2;
    } else if (c == '=') {
      t.kind = Tok::kAssign;
      ++i;
    } else {
      fail(std::string("unexpected \"") + c + "\" in command");
    }
    out.push_back(t);
  }
  out.push_back({Tok::kEnd, "", false});
  return out;
}

std::vector<std::string> split_fields(const std::string& chain) {
  std::vector<std::string> out;
  for (auto& part : split(chain, "."))
    if (!part.empty()) out.push_back(part);
  return out;
}

class PipeParser {
 public:
  explicit PipeParser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  std::shared_ptr<Pipeline> pipeline(bool allow_decl = true) {
    auto p = std::make_shared<Pipeline>();
    if (allow_decl) {
      // $x := ... or $k, $v := ...
      size_t save = pos_;
      std::vector<std::string> vars;
      while (peek().kind == Tok::kVar) {
        vars.push_back(next().text);
        if (peek().kind == Tok::kComma) {
          next();
          continue;
        }
        break;
      }
      if (!vars.empty() && (peek().kind == Tok::kDecl || peek().kind == Tok::kAssign)) {
        next();
        p->decl = vars;
      } else {
        pos_ = save;
      }
    }
    while (true) {
      Cmd cmd;
      while (true) {
        Tok k = peek().kind;
        if (k == Tok::kPipe || k == Tok::kRParen || k == Tok::kEnd) break;
        cmd.args.push_back(term());
      }
      if (cmd.args.empty()) fail("missing value for command");
      p->cmds.push_back(std::move(cmd));
      if (peek().kind != Tok::kPipe) break;
      next();
    }
    return p;
  }

  bool at_end() { return peek().kind == Tok::kEnd; }
  const Token& peek() { return toks_[pos_]; }
  const Token& next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }

 private:
  Term term() {
    const Token& t = next();
    Term term;
    switch (t.kind) {
      case Tok::kField:
        if (t.text == ".") {
          term.kind = TermKind::kDot;
        } else {
          term.kind = TermKind::kField;
          term.fields = split_fields(t.text);
        }
        break;
      case Tok::kVar: {
        term.kind = TermKind::kVariable;
        auto dot = t.text.find('.');
        term.name = t.text.substr(0, dot);
        if (dot != std::string::npos) term.fields = split_fields(t.text.substr(dot));
        break;
      }
      case Tok::kString:
        term.kind = TermKind::kLiteral;
        term.literal = json::string(t.text);
        break;
      case Tok::kNumber: {
        term.kind = TermKind::kLiteral;
        if (t.text.find_first_of(".eE") != std::string::npos &&
            !(t.text.starts_with("0x") || t.text.starts_with("0X")))
          term.literal = std::strtod(t.text.c_str(), nullptr);
        else
          term.literal = static_cast<int64_t>(std::strtoll(t.text.c_str(), nullptr, 0));
        break;
      }
      case Tok::kIdent:
        if (t.text == "true" || t.text == "false") {
          term.kind = TermKind::kLiteral;
          term.literal = t.text == "true";
        } else if (t.text == "nil") {
          term.kind = TermKind::kLiteral;
          term.literal = nullptr;
        } else {
          term.kind = TermKind::kIdent;
          term.name = t.text;
        }
        break;
      case Tok::kLParen:
        term.kind = TermKind::kPipe;
        term.pipe = pipeline(false);
        if (next().kind != Tok::kRParen) fail("unclosed left paren");
        if (peek().kind == Tok::kField && peek().adjacent) term.fields = split_fields(next().text);
        break;
      default:
        fail("unexpected \"" + t.text + "\" in operand");
    }
    return term;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

// ------------------------------------------------------------------------------------------
// Building the tree from items.

class TreeParser {
 public:
  explicit TreeParser(std::vector<Item> items) : items_(std::move(items)) {}

  std::shared_ptr<Node> parse_all() {
    std::string stop;
    auto root = parse_list(&stop);
    if (!stop.empty()) fail("unexpected {{" + stop + "}}");
    return root;
  }

 private:
  // Parses nodes until {{end}} / {{else ...}}; `stop` receives the keyword that ended the list
  // ("end", "else", or "" at end of input). For "else if", pending_ holds the pipeline tokens.
  std::shared_ptr<Node> parse_list(std::string* stop) {
    auto list = std::make_shared<Node>();
    list->kind = NodeKind::kList;
    while (pos_ < items_.size()) {
      Item& item = items_[pos_++];
      if (!item.action) {
        auto n = std::make_shared<Node>();
        n->kind = NodeKind::kText;
        n->text = item.text;
        list->list.push_back(n);
        continue;
      }
      auto toks = tokenize(item.text);
      if (toks[0].kind == Tok::kIdent) {
        const std::string kw = toks[0].text;
        if (kw == "end") {
          *stop = "end";
          return list;
        }
        if (kw == "else") {
          *stop = "else";
          else_tokens_.assign(toks.begin() + 1, toks.end());
          return list;
        }
        if (kw == "if" || kw == "range" || kw == "with") {
          toks.erase(toks.begin());
          list->list.push_back(control(kw, std::move(toks)));
          continue;
        }
        if (kw == "define" || kw == "template" || kw == "block")
          fail("unsupported action {{" + kw + "}}");
      }
      PipeParser pp(std::move(toks));
      auto n = std::make_shared<Node>();
      n->kind = NodeKind::kAction;
      n->pipe = pp.pipeline();
      if (!pp.at_end()) fail("unexpected token in command");
      list->list.push_back(n);
    }
    *stop = "";
    return list;
  }

  std::shared_ptr<Node> control(const std::string& kw, std::vector<Token> toks) {
    auto n = std::make_shared<Node>();
    n->kind = kw == "if" ? NodeKind::kIf : kw == "range" ? NodeKind::kRange : NodeKind::kWith;
    PipeParser pp(std::move(toks));
    n->pipe = pp.pipeline();
    if (!pp.at_end()) fail("unexpected token in " + kw);
    std::string stop;
    n->list = parse_list(&stop)->list;
    if (stop == "else") {
      auto rest = else_tokens_;
      if (!rest.empty() && rest[0].kind == Tok::kIdent && (rest[0].text == "if" ||
                                                           rest[0].text == "with")) {
        // {{else if ...}} chains: the else branch is one nested node that consumes the {{end}}.
        std::string nested_kw = rest[0].text;
        rest.erase(rest.begin());
        n->else_list.push_back(control(nested_kw, std::move(rest)));
        return n;
      }
      n->else_list = parse_list(&stop)->list;
    }
    if (stop != "end") fail("unexpected EOF");
    return n;
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
  std::vector<Token> else_tokens_;
};

// ------------------------------------------------------------------------------------------
// Evaluation.

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

Template::Template() = default;
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

Template Template::parse(std::string_view text) {
  Template t;
  TreeParser parser(split_items(text));
  t.root_ = parser.parse_all();
  // Unknown functions are a parse-time error in Go; check them up front.
  std::vector<const Node*> stack{t.root_.get()};
  static const std::vector<std::string> kFuncs = {
      "json", "split", "join", "lower", "upper", "title", "pad", "truncate", "index", "len",
      "eq", "ne", "lt", "le", "gt", "ge", "not", "and", "or", "print", "println", "printf"};
  std::vector<const Pipeline*> pipes;
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n->pipe) pipes.push_back(n->pipe.get());
    for (auto& c : n->list) stack.push_back(c.get());
    for (auto& c : n->else_list) stack.push_back(c.get());
  }
  while (!pipes.empty()) {
    const Pipeline* p = pipes.back();
    pipes.pop_back();
    for (auto& cmd : p->cmds)
      for (auto& term : cmd.args) {
        if (term.kind == TermKind::kIdent &&
            std::find(kFuncs.begin(), kFuncs.end(), term.name) == kFuncs.end())
          fail("function \"" + term.name + "\" not defined");
        if (term.pipe) pipes.push_back(term.pipe.get());
      }
  }
  return t;
}

std::string Template::execute(const json::value& dot, bool header_mode,
                              bool context_mode) const {
  std::string out;
  Exec ex(dot, header_mode, context_mode);
  if (root_) ex.run(*root_, dot, out);
  return out;
}

}  // namespace berth::cli
