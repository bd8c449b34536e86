// The Dockerfile grammar, variable substitution and .dockerignore patterns: never crash, and
// what the parser accepts is consistent (known instruction names, lines inside the input, JSON
// form only with its arguments).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/build/dockerfile_parser.hpp"
#include "core/build/dockerignore.hpp"
#include "core/build/shell_lex.hpp"

using namespace berth::core::build;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Vars vars{{"A", "a"}, {"EMPTY", ""}};
  auto df = parse_dockerfile(text);
  if (df) {
    size_t lines = 1;
    for (char c : text) lines += c == '\n' ? 1 : 0;
    for (const auto& inst : df->instructions) {
      if (!is_known_instruction(inst.keyword)) __builtin_trap();
      if (inst.line < 1 || static_cast<size_t>(inst.line) > lines) __builtin_trap();
      if (!inst.json && !inst.args.empty()) __builtin_trap();
      (void)expand_words(inst.rest, vars, df->escape);
      (void)parse_key_values(inst.rest, vars, df->escape, true, inst.keyword);
    }
  }
  (void)expand_word(text, vars);
  IgnoreMatcher ignore(text);
  (void)ignore.excluded("a/b/c.txt");
  (void)ignore.excluded(text);
  return 0;
}
