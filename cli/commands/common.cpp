#include "cli/commands/common.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "cli/app/errors.hpp"
#include "cli/format/human.hpp"
#include "cli/format/json_text.hpp"
#include "cli/format/template.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

const char* const kFormatHelp =
    "Format output using a custom template:\n"
    "'table':            Print output in table format with column headers (default)\n"
    "'table TEMPLATE':   Print output in table format using the given Go template\n"
    "'json':             Print in JSON format\n"
    "'TEMPLATE':         Print output using the given Go template.";

const char* const kInspectFormatHelp =
    "Format output using a custom template:\n"
    "'json':             Print in JSON format\n"
    "'TEMPLATE':         Print output using the given Go template.";

Filters parse_filters(const std::vector<std::string>& args) {
  Filters f;
  for (auto& a : args) f.add_arg(a);
  return f;
}

bool confirm(const std::string& message) {
  std::cout << message << " [y/N] " << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  std::string answer = to_lower(trim(line));
  return answer == "y";
}

void write_fd(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "write");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void print_inspect(const std::vector<std::string>& raws, const std::string& format) {
  std::cout.flush();
  if (format.empty()) {
    if (raws.empty()) {
      write_stdout("[]\n");
      return;
    }
    std::string all = "[";
    for (size_t i = 0; i < raws.size(); ++i) {
      if (i) all += ",";
      all += raws[i];
    }
    all += "]";
    write_stdout(json_indent(all) + "\n");
    return;
  }
  std::string f = format == "json" ? "{{json .}}" : format;
  Template t;
  try {
    t = Template::parse(f);
  } catch (const TemplateError& e) {
    throw StatusError(std::string("template parsing error: ") + e.what(), 64);
  }
  std::string out;
  for (auto& raw : raws) {
    try {
      out += t.execute(parse_json(raw)) + "\n";
    } catch (const TemplateError& e) {
      write_stdout(out);
      throw StatusError(std::string("template parsing error: ") + e.what(), 1);
    }
  }
  write_stdout(out.empty() ? "\n" : out);
}

std::unique_ptr<Command> make_prune_command(PruneCommand spec) {
  struct Opts {
    bool force = false;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("prune", "[OPTIONS]", spec.summary);
  cmd->flags.add_list("filter", 0, &o->filters, "Provide filter values (e.g. \"until=<timestamp>\")", "filter");
  cmd->flags.add_bool("force", 'f', &o->force, "Do not prompt for confirmation");
  cmd->exact_args(0);
  cmd->run = [o, spec = std::move(spec)](Context& ctx, const Args&) {
    if (!o->force && !confirm(spec.warning)) return 0;
    Filters f = parse_filters(o->filters);
    Query q;
    if (!f.empty()) q.add("filters", f.to_json());
    boost::json::value r =
        ctx.api().call_json(Request{.method = "POST", .path = spec.path, .query = q});
    auto names = jstrings(r, spec.deleted_key);
    int64_t reclaimed = 0;
    if (!names.empty()) {
      std::string out = spec.deleted_title + "\n";
      for (auto& n : names) out += n + "\n";
      std::cout << out << "\n";
      reclaimed = jint(r, "SpaceReclaimed");
    }
    if (spec.reports_space) {
      std::cout << "Total reclaimed space: " << human_size(static_cast<double>(reclaimed), 4) << "\n";
    }
    return 0;
  };
  return cmd;
}

}  // namespace berth::cli
