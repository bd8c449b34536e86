// The parsed form of a --format template, shared by its parser (template_parse.cpp) and its
// evaluator (template_exec.cpp); template.cpp ties them into Template.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/format/template.hpp"

namespace berth::cli::tmpl {

struct Pipeline;

enum class TermKind { kDot, kField, kVariable, kLiteral, kIdent, kPipe };

struct Term {
  TermKind kind = TermKind::kDot;
  std::string name;                 // variable or function name
  std::vector<std::string> fields;  // .A.B chain applied after the base
  boost::json::value literal;
  std::shared_ptr<Pipeline> pipe;
};

struct Cmd {
  std::vector<Term> args;
};

struct Pipeline {
  std::vector<std::string> decl;  // variables declared with :=
  std::vector<Cmd> cmds;
};

enum class NodeKind { kList, kText, kAction, kIf, kRange, kWith };

struct Node {
  NodeKind kind = NodeKind::kList;
  std::string text;
  std::shared_ptr<Pipeline> pipe;
  std::vector<std::shared_ptr<Node>> list, else_list;
};

// Go's error prefix for a template without a name.
[[noreturn]] inline void fail(const std::string& msg) { throw TemplateError("template: :1: " + msg); }

// template_parse.cpp: the tree of `text`; throws TemplateError on syntax errors.
std::shared_ptr<Node> parse_tree(std::string_view text);

// template_exec.cpp: evaluates `root` against `dot` into `out` (modes as Template::execute).
void execute_tree(const Node& root, const boost::json::value& dot, bool header_mode, bool context_mode,
                  std::string& out);

}  // namespace berth::cli::tmpl
