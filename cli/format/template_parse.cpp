// Parsing a --format template: text and actions split apart, actions tokenized, pipelines and
// the if/range/with structure built into a tree.
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

}  // namespace

std::shared_ptr<Node> parse_tree(std::string_view text) {
  TreeParser parser(split_items(text));
  return parser.parse_all();
}

}  // namespace berth::cli::tmpl
