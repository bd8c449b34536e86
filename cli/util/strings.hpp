#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

std::vector<std::string> split(std::string_view s, std::string_view sep);
// Splits at the first `sep`; second is empty (and `found` false) when absent.
std::pair<std::string, std::string> split_once(std::string_view s, char sep, bool* found = nullptr);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string trim(std::string_view s);
// Trims only spaces (strings.Trim(s, " ")), not tabs or newlines.
std::string trim_chars(std::string_view s, char c = ' ');
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

// Number of display columns of a UTF-8 string (code points; East Asian wide runes count 2), the
// way docker's tabwriter measures cells.
size_t display_width(std::string_view s);
// Cuts a UTF-8 string to at most `max_width` display columns, ending with "…" when cut
// (docker's formatter.Ellipsis).
std::string ellipsis(std::string_view s, size_t max_width);

// Go's strconv.Quote for the common cases (ASCII control characters escaped, UTF-8 kept).
std::string go_quote(std::string_view s);

// Strips "sha256:" and cuts an ID to 12 characters (docker's stringid.TruncateID).
std::string short_id(std::string_view id);
std::string strip_sha256(std::string_view id);

}  // namespace berth::cli
