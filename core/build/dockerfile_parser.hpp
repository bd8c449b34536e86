// The Dockerfile grammar, as BuildKit's dockerfile frontend reads it: parser directives
// (`# syntax=`, `# escape=`), comments, line continuations with the escape character,
// instruction names in any case, leading `--flag[=value]` words, JSON (exec) or shell form
// arguments, and heredocs (`RUN <<EOF`, `COPY <<-"EOF" /path`). Pure: no I/O, no variable
// substitution (shell_lex.hpp does that per instruction, when the builder knows the values).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::build {

struct Heredoc {
  std::string name;     // the delimiter word ("EOF")
  std::string content;  // the lines up to the delimiter, each ending in "\n"
  bool expand = true;   // false when the delimiter was quoted: no variable substitution
  bool strip_tabs = false;  // `<<-`: leading tabs removed from every line
};

struct Instruction {
  std::string keyword;             // upper case: "RUN", "COPY"
  std::vector<std::string> flags;  // leading "--name[=value]" words, as written
  std::string rest;                // arguments after the flags, continuations joined
  bool json = false;               // exec form: `rest` was a JSON array of strings...
  std::vector<std::string> args;   // ...whose elements are these
  std::vector<Heredoc> heredocs;   // in the order they appear in `rest`
  std::string original;            // the instruction as written, continuations joined
  int line = 0;                    // first line, 1-based
};

struct Dockerfile {
  char escape = '\\';
  std::string syntax;  // `# syntax=` when given: accepted and otherwise ignored
  std::vector<Instruction> instructions;
};

// Parses a whole Dockerfile. Errors are kInvalidArgument and read
// "<file_name> line <n>: <what is wrong>". No instructions at all is an error too.
Result<Dockerfile> parse_dockerfile(std::string_view text, std::string_view file_name = "Dockerfile");

// The instructions BuildKit knows; anything else is refused with its line.
bool is_known_instruction(std::string_view upper_keyword);

// Value of flag `name` ("from" for "--from=x"); `present` tells a bare "--link" from absence.
std::string flag_value(const Instruction& inst, std::string_view name, bool* present = nullptr);

// Parses `text` as a JSON array of strings (exec form); false when it is not one.
bool parse_json_array(std::string_view text, std::vector<std::string>& out);

}  // namespace berth::core::build
