// Image archive commands: import, save, load (tar streams to and from the daemon).
#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include "cli/app/errors.hpp"
#include "cli/client/docker_config.hpp"
#include "cli/client/registry_auth.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/images.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/format/human.hpp"
#include "cli/stream/json_stream.hpp"
#include "cli/stream/jsonmessage.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/reference.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace {

// Reads from an fd for chunked uploads.
BodySource fd_source(int fd) {
  return [fd](char* buf, size_t size) -> size_t {
    while (true) {
      ssize_t n = ::read(fd, buf, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(std::string("read: ") + std::strerror(errno));
      return static_cast<size_t>(n);
    }
  };
}

}  // namespace

std::unique_ptr<Command> make_import() {
  struct Opts {
    std::vector<std::string> changes;
    std::string message, platform;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                          "Import the contents from a tarball to create a filesystem image");
  cmd->alias_paths = {"berth image import", "berth import"};
  cmd->flags.add_list("change", 'c', &o->changes,
                      "Apply Dockerfile instruction to the created image");
  cmd->flags.add_string("message", 'm', &o->message, "Set commit message for imported image");
  cmd->flags.add_string("platform", 0, &o->platform, "Set platform if server is multi-platform capable");
  cmd->min_args = 1;
  cmd->max_args = 2;
  cmd->run = [o](Context& ctx, const Args& args) {
    const std::string& source = args[0];
    Query q;
    int fd = -1;
    if (source == "-") {
      fd = 0;
      q.add("fromSrc", "-");
    } else if (source.starts_with("http://") || source.starts_with("https://")) {
      q.add("fromSrc", source);
    } else {
      fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw StatusError("open " + source + ": " + std::strerror(errno), 1);
      q.add("fromSrc", "-");
    }
    if (args.size() > 1) {
      Reference ref;
      if (!Reference::parse(args[1], &ref)) {
        if (fd > 0) ::close(fd);
        throw StatusError("invalid reference format", 1);
      }
      q.add("repo", args[1]);
    }
    if (!o->message.empty()) q.add("message", o->message);
    if (!o->platform.empty()) q.add("platform", to_lower(o->platform));
    for (auto& c : o->changes) q.add("changes", c);
    Request req{.method = "POST", .path = "/images/create", .query = q};
    if (fd >= 0) req.upload = fd_source(fd);
    auto resp = ctx.api().send(req);
    if (fd > 0) ::close(fd);
    std::cout.flush();
    try {
      display_json_stream(resp, 1, ctx.stdout_is_tty());
    } catch (const JsonMessageError& e) {
      throw StatusError(e.what(), 1);
    }
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_save() {
  struct Opts {
    std::string output, platform;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("save", "[OPTIONS] IMAGE [IMAGE...]",
                          "Save one or more images to a tar archive (streamed to STDOUT by "
                          "default)");
  cmd->alias_paths = {"berth image save", "berth save"};
  cmd->flags.add_string("output", 'o', &o->output, "Write to a file, instead of STDOUT");
  cmd->flags.add_string("platform", 0, &o->platform, "Save only the given platform variant");
  cmd->min_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    if (o->output.empty() && ctx.stdout_is_tty())
      throw StatusError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1);
    Query q;
    for (auto& a : args) q.add("names", a);
    auto resp = ctx.api().send(Request{.path = "/images/get", .query = q});
    int fd = 1;
    std::string tmp;
    if (!o->output.empty()) {
      // Written to a temporary file and renamed, so a failed save leaves no partial archive.
      tmp = o->output + ".berth-tmp";
      fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0)
        throw StatusError("failed to save image: " + std::string(std::strerror(errno)), 1);
    }
    try {
      std::string chunk;
      while (resp.read_some(chunk)) {
        write_fd(fd, chunk.data(), chunk.size());
        chunk.clear();
      }
    } catch (...) {
      if (fd != 1) {
        ::close(fd);
        ::unlink(tmp.c_str());
      }
      throw;
    }
    if (fd != 1) {
      ::fsync(fd);
      ::close(fd);
      if (::rename(tmp.c_str(), o->output.c_str()) != 0)
        throw StatusError("failed to save image: " + std::string(std::strerror(errno)), 1);
    }
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_load() {
  struct Opts {
    std::string input, platform;
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("load", "[OPTIONS]", "Load an image from a tar archive or STDIN");
  cmd->alias_paths = {"berth image load", "berth load"};
  cmd->flags.add_string("input", 'i', &o->input, "Read from tar archive file, instead of STDIN");
  cmd->flags.add_string("platform", 0, &o->platform, "Load only the given platform variant");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Suppress the load output");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    int fd = 0;
    if (o->input.empty()) {
      if (ctx.stdin_is_tty()) throw StatusError("requested load from stdin, but stdin is empty", 1);
    } else {
      fd = ::open(o->input.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw StatusError("open " + o->input + ": " + std::strerror(errno), 1);
    }
    bool quiet = o->quiet || !ctx.stdout_is_tty();
    Request req{.method = "POST",
                .path = "/images/load",
                .query = Query().add("quiet", quiet ? "1" : "0"),
                .upload = fd_source(fd),
                .content_type = "application/x-tar"};
    auto resp = ctx.api().send(req);
    if (fd > 0) ::close(fd);
    std::cout.flush();
    if (resp.header("content-type") == "application/json") {
      try {
        display_json_stream(resp, 1, ctx.stdout_is_tty());
      } catch (const JsonMessageError& e) {
        throw StatusError(e.what(), 1);
      }
    } else {
      std::string chunk;
      while (resp.read_some(chunk)) {
        write_stdout(chunk);
        chunk.clear();
      }
    }
    return 0;
  };
  return cmd;
}

}  // namespace berth::cli
