// Docker's variable substitution (see shell_lex.hpp).
#include "core/build/shell_lex.hpp"

#include <cctype>

namespace berth::core::build {
namespace {

Error lex_error(std::string_view word, const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument, "failed to process \"" + std::string(word) + "\": " + what);
}

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

class Lexer {
 public:
  Lexer(std::string_view word, const Vars& vars, char escape) : word_(word), vars_(vars), escape_(escape) {}

  // Processes until the end, or (nested in ${x:-...}) until an unmatched '}'.
  Result<std::string> run(bool stop_at_brace) {
    std::string out;
    while (pos_ < word_.size()) {
      char c = word_[pos_];
      if (stop_at_brace && c == '}') return out;
      if (c == '\'') {
        BERTH_TRY_STATUS(single_quote(out));
      } else if (c == '"') {
        BERTH_TRY_STATUS(double_quote(out));
      } else if (c == '$') {
        BERTH_TRY_STATUS(dollar(out));
      } else if (c == escape_) {
        ++pos_;
        if (pos_ < word_.size()) out += word_[pos_++];
      } else {
        out += c;
        ++pos_;
      }
    }
    if (stop_at_brace) return lex_error(word_, "missing '}'");
    return out;
  }

 private:
  Status single_quote(std::string& out) {
    ++pos_;
    size_t end = word_.find('\'', pos_);
    if (end == std::string_view::npos) return lex_error(word_, "unexpected end of statement while looking for matching single-quote");
    out.append(word_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return {};
  }

  Status double_quote(std::string& out) {
    ++pos_;
    while (pos_ < word_.size()) {
      char c = word_[pos_];
      if (c == '"') {
        ++pos_;
        return {};
      }
      if (c == '$') {
        BERTH_TRY_STATUS(dollar(out));
        continue;
      }
      if (c == escape_ && pos_ + 1 < word_.size()) {
        char next = word_[pos_ + 1];
        if (next == '"' || next == '$' || next == escape_) {
          out += next;
          pos_ += 2;
          continue;
        }
      }
      out += c;
      ++pos_;
    }
    return lex_error(word_, "unexpected end of statement while looking for matching double-quote");
  }

  std::string lookup(const std::string& name, bool* set) const {
    auto it = vars_.find(name);
    *set = it != vars_.end();
    return *set ? it->second : std::string();
  }

  Status dollar(std::string& out) {
    ++pos_;  // '$'
    if (pos_ >= word_.size()) {
      out += '$';
      return {};
    }
    char c = word_[pos_];
    if (c != '{') {
      std::string name;
      if (std::isdigit(static_cast<unsigned char>(c))) {
        ++pos_;  // positional parameters are always empty
        return {};
      }
      while (pos_ < word_.size() && is_name_char(word_[pos_])) name += word_[pos_++];
      if (name.empty()) {
        out += '$';
        return {};
      }
      bool set = false;
      out += lookup(name, &set);
      return {};
    }
    ++pos_;  // '{'
    std::string name;
    while (pos_ < word_.size() && is_name_char(word_[pos_])) name += word_[pos_++];
    if (name.empty()) return lex_error(word_, "bad substitution: expected a variable name after '${'");
    if (pos_ >= word_.size()) return lex_error(word_, "missing '}'");
    bool set = false;
    std::string value = lookup(name, &set);
    char m = word_[pos_];
    if (m == '}') {
      ++pos_;
      out += value;
      return {};
    }
    bool colon = false;
    if (m == ':') {
      colon = true;
      ++pos_;
      if (pos_ >= word_.size()) return lex_error(word_, "missing '}'");
      m = word_[pos_];
    }
    if (m != '-' && m != '+' && m != '?') {
      return lex_error(word_, std::string("unsupported modifier (") + (colon ? ":" : "") + m +
                                  ") in substitution: expected one of -, +, ?, :-, :+, :?");
    }
    ++pos_;
    auto word = run(true);
    if (!word) return word.error();
    ++pos_;  // '}'
    bool has = colon ? (set && !value.empty()) : set;
    switch (m) {
      case '-':
        out += has ? value : *word;
        break;
      case '+':
        out += has ? *word : std::string();
        break;
      default:  // '?'
        if (!has) {
          return lex_error(word_, name + ": " + (word->empty() ? std::string("is not allowed to be unset") : *word));
        }
        out += value;
    }
    return {};
  }

  std::string_view word_;
  const Vars& vars_;
  char escape_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> expand_word(std::string_view word, const Vars& vars, char escape) {
  Lexer lexer(word, vars, escape);
  return lexer.run(false);
}

std::vector<std::string> split_words(std::string_view text, char escape) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote == 0 && std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == escape && quote != '\'' && i + 1 < text.size()) {
      cur += c;
      cur += text[++i];
      continue;
    }
    if (quote == 0 && (c == '"' || c == '\'')) quote = c;
    else if (quote != 0 && c == quote) quote = 0;
    cur += c;
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

Result<std::vector<std::string>> expand_words(std::string_view text, const Vars& vars, char escape) {
  std::vector<std::string> out;
  for (const auto& w : split_words(text, escape)) {
    auto e = expand_word(w, vars, escape);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(std::string_view text, const Vars& vars,
                                                                         char escape, bool allow_legacy,
                                                                         std::string_view instruction) {
  std::vector<std::pair<std::string, std::string>> out;
  auto words = split_words(text, escape);
  if (words.empty()) {
    return make_error(ErrorCode::kInvalidArgument, std::string(instruction) + " requires at least one argument");
  }
  if (words[0].find('=') == std::string::npos) {
    if (!allow_legacy) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(instruction) + " names must be given as key=value: \"" + words[0] + "\"");
    }
    // Legacy "ENV key value with spaces": the value is the rest of the line.
    size_t start = text.find_first_not_of(" \t");
    size_t after_key = start + words[0].size();
    std::string_view value = text.substr(after_key);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
    if (value.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(instruction) + " " + words[0] + ": a value is required (" + std::string(instruction) +
                            " key=value or " + std::string(instruction) + " key value)");
    }
    auto key = expand_word(words[0], vars, escape);
    if (!key) return key.error();
    auto v = expand_word(value, vars, escape);
    if (!v) return v.error();
    out.emplace_back(std::move(*key), std::move(*v));
    return out;
  }
  for (const auto& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(instruction) + ": \"" + w + "\" is not of the form key=value");
    }
    auto key = expand_word(w.substr(0, eq), vars, escape);
    if (!key) return key.error();
    auto v = expand_word(w.substr(eq + 1), vars, escape);
    if (!v) return v.error();
    out.emplace_back(std::move(*key), std::move(*v));
  }
  return out;
}

}  // namespace berth::core::build
