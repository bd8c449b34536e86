// Docker's variable substitution in Dockerfile arguments (BuildKit's shell lexer rules, not a
// shell): `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`,
// `${VAR:?message}`, `${VAR?message}`; single quotes are literal; inside double quotes the escape
// character escapes only `"`, `$` and itself; outside quotes it escapes any character. Quotes
// are removed from the result. Unset variables expand to "".
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::build {

using Vars = std::map<std::string, std::string>;

// One word (or a whole value) with substitution and quote removal. kInvalidArgument for an
// unterminated quote or `${`, a bad modifier, or `${VAR?message}` with VAR unset.
Result<std::string> expand_word(std::string_view word, const Vars& vars, char escape = '\\');

// Splits on blanks, keeping quoted runs and escaped characters inside their word (quotes and
// escapes stay: expand_word removes them).
std::vector<std::string> split_words(std::string_view text, char escape = '\\');

// split_words then expand_word on each.
Result<std::vector<std::string>> expand_words(std::string_view text, const Vars& vars, char escape = '\\');

// ENV/LABEL/ARG-style "k=v k2=\"v 2\"" pairs, values expanded; the legacy one-pair form
// "key value with spaces" when the first word has no "=" and `allow_legacy`.
Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(std::string_view text, const Vars& vars,
                                                                         char escape, bool allow_legacy,
                                                                         std::string_view instruction);

}  // namespace berth::core::build
