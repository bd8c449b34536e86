#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace berth::cli {

// JSON text the way Go's encoding/json writes it for docker's `{{json}}` (SetEscapeHTML(false)):
// compact, object keys in the order given, integral numbers without exponent. escape_html
// writes <, > and & as \u003c etc. (json.Marshal's default, seen when docker marshals its own
// format contexts).
std::string go_json(const boost::json::value& v, bool escape_html = false);
// Go's json.Indent(dst, src, prefix, indent): re-indents raw JSON bytes without reordering or
// re-encoding anything, so `inspect` shows exactly what the daemon sent.
std::string json_indent(std::string_view raw, std::string_view indent = "    ");
// Go's fmt %v rendering of a decoded JSON value (maps sorted: map[k:v], slices [a b]).
std::string go_print(const boost::json::value& v);
// Shortest round-trip text of a double (Go's 'g' / json form for integral values).
std::string format_number(double d);

}  // namespace berth::cli
