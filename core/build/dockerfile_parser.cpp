// The Dockerfile grammar (see dockerfile_parser.hpp). Lines are read the way BuildKit reads
// them: a continuation is the escape character followed only by blanks at the end of a line;
// comment lines and blank lines inside a continuation are skipped; heredoc bodies are taken
// raw, after the (joined) line that names them.
#include "core/build/dockerfile_parser.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace berth::core::build {
namespace {

constexpr std::array<std::string_view, 18> kInstructions = {
    "ADD",    "ARG",     "CMD",  "COPY",  "ENTRYPOINT", "ENV",        "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL",  "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) { return trim_right(trim_left(s)); }

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

bool is_comment(std::string_view line) {
  line = trim_left(line);
  return !line.empty() && line.front() == '#';
}

// "# name = value" at the top of the file; false for anything else.
bool parse_directive(std::string_view line, std::string& name, std::string& value) {
  line = trim(line);
  if (line.empty() || line.front() != '#') return false;
  line = trim_left(line.substr(1));
  size_t eq = line.find('=');
  if (eq == std::string_view::npos) return false;
  std::string_view key = trim(line.substr(0, eq));
  if (key.empty() || !std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0;
      })) {
    return false;
  }
  name.assign(key);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  value.assign(trim(line.substr(eq + 1)));
  return true;
}

// Strips a trailing "<escape>[blanks]"; true when the line continues.
bool strip_continuation(std::string& line, char escape) {
  size_t end = line.size();
  while (end > 0 && is_blank(line[end - 1])) --end;
  if (end == 0 || line[end - 1] != escape) return false;
  line.resize(end - 1);
  return true;
}

// Words of `s` split on blanks, quotes kept together (for finding flags and heredoc markers).
std::vector<std::pair<size_t, size_t>> word_spans(std::string_view s, char escape) {
  std::vector<std::pair<size_t, size_t>> spans;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    size_t start = i;
    char quote = 0;
    while (i < s.size()) {
      char c = s[i];
      if (quote == 0 && std::isspace(static_cast<unsigned char>(c))) break;
      if (c == escape && quote != '\'' && i + 1 < s.size()) {
        i += 2;
        continue;
      }
      if (quote == 0 && (c == '"' || c == '\'')) quote = c;
      else if (quote != 0 && c == quote) quote = 0;
      ++i;
    }
    spans.emplace_back(start, i - start);
  }
  return spans;
}

// "<<EOF", "<<-EOF", "<<\"EOF\"", "<<'EOF'" (optionally after a file descriptor number).
bool heredoc_marker(std::string_view word, Heredoc& out) {
  while (!word.empty() && std::isdigit(static_cast<unsigned char>(word.front()))) word.remove_prefix(1);
  if (word.substr(0, 2) != "<<") return false;
  word.remove_prefix(2);
  out = Heredoc{};
  if (!word.empty() && word.front() == '-') {
    out.strip_tabs = true;
    word.remove_prefix(1);
  }
  if (word.size() >= 2 && (word.front() == '"' || word.front() == '\'') && word.back() == word.front()) {
    out.expand = false;
    word = word.substr(1, word.size() - 2);
  }
  if (word.empty()) return false;
  for (char c : word) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  out.name.assign(word);
  return true;
}

Error parse_error(std::string_view file, int line, const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument,
                    "dockerfile parse error: " + std::string(file) + " line " + std::to_string(line) + ": " + what);
}

}  // namespace

bool is_known_instruction(std::string_view keyword) {
  return std::find(kInstructions.begin(), kInstructions.end(), keyword) != kInstructions.end();
}

bool parse_json_array(std::string_view text, std::vector<std::string>& out) {
  text = trim(text);
  if (text.empty() || text.front() != '[') return false;
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) return false;
  std::vector<std::string> items;
  for (const auto& v : value.get_array()) {
    if (!v.is_string()) return false;
    items.emplace_back(v.get_string());
  }
  out = std::move(items);
  return true;
}

std::string flag_value(const Instruction& inst, std::string_view name, bool* present) {
  if (present != nullptr) *present = false;
  std::string value;
  for (const auto& f : inst.flags) {
    std::string_view v(f);
    v.remove_prefix(2);
    if (v.substr(0, name.size()) != name) continue;
    v.remove_prefix(name.size());
    if (!v.empty() && v.front() != '=') continue;
    if (present != nullptr) *present = true;
    value = v.empty() ? "" : std::string(v.substr(1));
  }
  return value;
}

Result<Dockerfile> parse_dockerfile(std::string_view text, std::string_view file_name) {
  Dockerfile out;
  auto lines = split_lines(text);
  size_t i = 0;
  // Parser directives: only before any comment, blank line or instruction.
  bool seen_escape = false, seen_syntax = false;
  for (; i < lines.size(); ++i) {
    std::string name, value;
    if (!parse_directive(lines[i], name, value)) break;
    if (name == "escape") {
      if (seen_escape) return parse_error(file_name, static_cast<int>(i + 1), "only one escape parser directive can be used");
      if (value != "\\" && value != "`") {
        return parse_error(file_name, static_cast<int>(i + 1),
                           "invalid escape token '" + value + "': expected '\\' or '`'");
      }
      out.escape = value.front();
      seen_escape = true;
    } else if (name == "syntax") {
      if (seen_syntax) return parse_error(file_name, static_cast<int>(i + 1), "only one syntax parser directive can be used");
      out.syntax = value;
      seen_syntax = true;
    } else if (name != "check") {
      break;  // an ordinary comment: directives end here
    }
  }

  while (i < lines.size()) {
    std::string_view first = trim_left(lines[i]);
    if (first.empty() || first.front() == '#') {
      ++i;
      continue;
    }
    Instruction inst;
    inst.line = static_cast<int>(i + 1);
    std::string line(first);
    ++i;
    while (strip_continuation(line, out.escape)) {
      // Blank and comment lines inside a continuation are dropped.
      while (i < lines.size() && (trim(lines[i]).empty() || is_comment(lines[i]))) ++i;
      if (i >= lines.size()) break;
      line += lines[i];
      ++i;
    }
    std::string_view body = trim(line);
    size_t kw_end = 0;
    while (kw_end < body.size() && !std::isspace(static_cast<unsigned char>(body[kw_end]))) ++kw_end;
    inst.keyword = upper(body.substr(0, kw_end));
    if (!is_known_instruction(inst.keyword)) {
      return parse_error(file_name, inst.line,
                         "unknown instruction: " + std::string(body.substr(0, kw_end)) +
                             " (expected one of FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, CMD, "
                             "ENTRYPOINT, EXPOSE, LABEL, VOLUME, STOPSIGNAL, HEALTHCHECK, ONBUILD, SHELL, MAINTAINER)");
    }
    std::string_view rest = trim_left(body.substr(kw_end));
    inst.original = inst.keyword + (rest.empty() ? "" : " " + std::string(rest));
    // Leading --flags.
    for (;;) {
      if (rest.substr(0, 2) != "--") break;
      auto spans = word_spans(rest, out.escape);
      if (spans.empty()) break;
      std::string flag(rest.substr(spans[0].first, spans[0].second));
      if (flag == "--") {
        return parse_error(file_name, inst.line, "empty flag name after \"--\" in " + inst.keyword);
      }
      // Quotes around a flag's value are the user's, not part of it.
      std::string cleaned;
      char quote = 0;
      for (char c : flag) {
        if (quote == 0 && (c == '"' || c == '\'')) quote = c;
        else if (quote != 0 && c == quote) quote = 0;
        else cleaned += c;
      }
      inst.flags.push_back(std::move(cleaned));
      rest = trim_left(rest.substr(spans[0].first + spans[0].second));
    }
    inst.rest.assign(trim_right(rest));
    if (parse_json_array(inst.rest, inst.args)) inst.json = true;

    if (!inst.json && (inst.keyword == "RUN" || inst.keyword == "COPY" || inst.keyword == "ADD")) {
      for (auto [start, len] : word_spans(inst.rest, out.escape)) {
        Heredoc doc;
        if (heredoc_marker(std::string_view(inst.rest).substr(start, len), doc)) inst.heredocs.push_back(std::move(doc));
      }
      for (auto& doc : inst.heredocs) {
        bool closed = false;
        while (i < lines.size()) {
          std::string_view l = lines[i++];
          if (doc.strip_tabs) {
            while (!l.empty() && l.front() == '\t') l.remove_prefix(1);
          }
          if (l == doc.name) {
            closed = true;
            break;
          }
          doc.content.append(l).push_back('\n');
        }
        if (!closed) {
          return parse_error(file_name, inst.line,
                             "unterminated heredoc: expected a line \"" + doc.name + "\" before the end of the file");
        }
      }
    }
    out.instructions.push_back(std::move(inst));
  }
  if (out.instructions.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the Dockerfile (" + std::string(file_name) + ") cannot be empty: it needs at least a FROM instruction");
  }
  return out;
}

}  // namespace berth::core::build
