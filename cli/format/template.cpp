// Template: parse (template_parse.cpp) plus the check Go makes at parse time that every
// function exists, and execute (template_exec.cpp).
#include "cli/format/template.hpp"

#include <algorithm>
#include <vector>

#include "cli/format/template_tree.hpp"

namespace berth::cli {

namespace json = boost::json;
using namespace tmpl;

Template::Template() = default;
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

Template Template::parse(std::string_view text) {
  Template t;
  t.root_ = parse_tree(text);
  // Unknown functions are a parse-time error in Go; check them up front.
  std::vector<const Node*> stack{t.root_.get()};
  static const std::vector<std::string> kFuncs = {
      "json", "split", "join", "lower", "upper", "title", "pad", "truncate", "index", "len",
      "eq", "ne", "lt", "le", "gt", "ge", "not", "and", "or", "print", "println", "printf"};
  std::vector<const Pipeline*> pipes;
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n->pipe) pipes.push_back(n->pipe.get());
    for (auto& c : n->list) stack.push_back(c.get());
    for (auto& c : n->else_list) stack.push_back(c.get());
  }
  while (!pipes.empty()) {
    const Pipeline* p = pipes.back();
    pipes.pop_back();
    for (auto& cmd : p->cmds)
      for (auto& term : cmd.args) {
        if (term.kind == TermKind::kIdent &&
            std::find(kFuncs.begin(), kFuncs.end(), term.name) == kFuncs.end())
          fail("function \"" + term.name + "\" not defined");
        if (term.pipe) pipes.push_back(term.pipe.get());
      }
  }
  return t;
}

std::string Template::execute(const json::value& dot, bool header_mode,
                              bool context_mode) const {
  std::string out;
  if (root_) execute_tree(*root_, dot, header_mode, context_mode, out);
  return out;
}

}  // namespace berth::cli
