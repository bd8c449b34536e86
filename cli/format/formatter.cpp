#include "cli/format/formatter.hpp"

#include <algorithm>

#include "cli/app/errors.hpp"
#include "cli/format/tabwriter.hpp"
#include "cli/format/template.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

bool is_table_format(const std::string& format) { return format.starts_with("table"); }

json::object sorted_object(const json::object& o) {
  std::vector<std::string> keys;
  for (auto& kv : o) keys.emplace_back(kv.key());
  std::sort(keys.begin(), keys.end());
  json::object out;
  for (auto& k : keys) out[k] = o.at(k);
  return out;
}

std::string render_rows(const std::string& format, const std::vector<json::value>& rows,
                        const json::object& header) {
  std::string f = format;
  bool table = is_table_format(f);
  if (table)
    f = f.substr(5);
  else if (f == "json")
    f = "{{json .}}";
  f = trim_chars(f);
  f = replace_all(replace_all(f, "\\t", "\t"), "\\n", "\n");
  Template t;
  try {
    t = Template::parse(f);
  } catch (const TemplateError& e) {
    throw StatusError(std::string("template parsing error: ") + e.what(), 1);
  }
  std::string body;
  try {
    for (auto& row : rows) body += t.execute(row, false, true) + "\n";
  } catch (const TemplateError& e) {
    throw StatusError(std::string("template parsing error: ") + e.what(), 1);
  }
  if (!table) return body;
  TabWriter w;
  std::string head;
  try {
    head = t.execute(header, true);
  } catch (const TemplateError&) {
    head = "";
  }
  w.write(head);
  w.write("\n");
  w.write(body);
  return w.flush();
}

}  // namespace berth::cli
