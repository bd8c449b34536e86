#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

namespace berth::cli {

// docker's formatter.Context: renders one JSON object per row with a user or default format.
//  - "table" / "table TEMPLATE": header row + tab-aligned rows (tabwriter minwidth 10, pad 3)
//  - "json": {{json .}} per row
//  - anything else: a Go template per row
// Literal "\t" and "\n" in the format become real tabs and newlines, as in docker.
// `header` maps each field name to its column title (header mode template execution).
std::string render_rows(const std::string& format, const std::vector<boost::json::value>& rows,
                        const boost::json::object& header);

bool is_table_format(const std::string& format);
// Row objects get their keys sorted, because docker marshals its format contexts as maps.
boost::json::object sorted_object(const boost::json::object& o);

}  // namespace berth::cli
