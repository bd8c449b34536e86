#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace berth::cli {

class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace tmpl {
struct Node;
}

// A subset of Go's text/template as docker uses it for --format: {{.A.B}}, {{$}},
// variables, pipelines (`{{.X | json}}`), parenthesised calls, {{if}}/{{else if}}/{{else}},
// {{range}} (with `$k, $v :=`), {{with}}, trim markers ({{- -}}), string/number/bool
// literals and docker's functions (json, join, split, lower, upper, title, pad, truncate)
// plus Go's builtins index, len, eq, ne, lt, le, gt, ge, and, or, not, print, printf, println.
// Data is a decoded JSON value.
class Template {
 public:
  // Throws TemplateError ("template: :1: ...") on syntax errors.
  static Template parse(std::string_view text);

  // Header mode swaps in docker's HeaderFunctions (json/split/join/... return their argument
  // unchanged) so a `table` format renders its header row from a header context.
  // context_mode: data rows are docker format contexts, whose own JSON marshalling escapes
  // HTML characters, so {{json .}} of an object escapes them too.
  std::string execute(const boost::json::value& dot, bool header_mode = false,
                      bool context_mode = false) const;

  Template();
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

 private:
  std::shared_ptr<tmpl::Node> root_;
};

}  // namespace berth::cli
