// `berth build` / `berth image build`: docker's legacy builder client. The context directory
// (minus what .dockerignore excludes, with the same rules as the daemon) goes up as a tar
// written on the fly by a thread; "-" sends stdin (a tar, or a Dockerfile with an empty
// context); `-f -` reads the Dockerfile from stdin. The answer is a JSON message stream
// rendered like docker's, the image id arriving in the aux message.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "berth/sdk/fs.hpp"
#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/images.hpp"
#include "cli/stream/jsonmessage.hpp"
#include "cli/util/reference.hpp"
#include "core/build/dockerignore.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace {

std::string read_all_fd(int fd) {
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Whether stdin's bytes are an archive (tar, or compressed) rather than a Dockerfile.
bool looks_like_archive(const std::string& b) {
  auto at = [&](size_t i) { return static_cast<unsigned char>(b[i]); };
  if (b.size() >= 2 && at(0) == 0x1f && at(1) == 0x8b) return true;
  if (b.size() >= 3 && b.compare(0, 3, "BZh") == 0) return true;
  if (b.size() >= 6 && at(0) == 0xfd && b.compare(1, 4, "7zXZ") == 0) return true;
  if (b.size() >= 4 && at(0) == 0x28 && at(1) == 0xb5 && at(2) == 0x2f && at(3) == 0xfd) return true;
  return b.size() >= 262 && b.compare(257, 5, "ustar") == 0;
}

struct ContextWriter {
  struct archive* a;
  const core::build::IgnoreMatcher& ignore;
  std::string keep_dockerfile;  // relative path kept even when ignored

  void header(const std::string& name, const struct stat& st, const std::string& link) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_copy_stat(e, &st);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_uname(e, "");
    archive_entry_set_gname(e, "");
    if (!link.empty()) archive_entry_set_symlink(e, link.c_str());
    if (!S_ISREG(st.st_mode)) archive_entry_set_size(e, 0);
    if (archive_write_header(a, e) < ARCHIVE_WARN) {
      std::string err = archive_error_string(a) ? archive_error_string(a) : "write failed";
      archive_entry_free(e);
      throw StatusError("send the build context: " + err, 1);
    }
    archive_entry_free(e);
  }

  void file(const std::string& name, const std::string& data, mode_t mode) {
    struct stat st {};
    st.st_mode = S_IFREG | mode;
    st.st_size = static_cast<off_t>(data.size());
    st.st_mtime = 0;
    header(name, st, "");
    archive_write_data(a, data.data(), data.size());
  }

  // Walks `root`/`rel`, skipping what .dockerignore excludes (an excluded directory is still
  // walked when exceptions might bring something below it back).
  void walk(const std::string& root, const std::string& rel) {
    std::string dir = rel.empty() ? root : root + "/" + rel;
    DIR* d = ::opendir(dir.c_str());
    if (!d) throw StatusError("error checking context: can't read " + dir + ": " + std::strerror(errno), 1);
    std::vector<std::string> names;
    while (auto* de = ::readdir(d)) {
      std::string n = de->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string child = rel.empty() ? n : rel + "/" + n;
      std::string path = root + "/" + child;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) continue;
      bool excluded = ignore.excluded(child) && child != keep_dockerfile && child != ".dockerignore";
      if (excluded) {
        if (S_ISDIR(st.st_mode) && ignore.has_exceptions()) walk(root, child);
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        header(child + "/", st, "");
        walk(root, child);
      } else if (S_ISLNK(st.st_mode)) {
        auto target = sdk::fs::read_link(path);
        header(child, st, target ? *target : std::string());
      } else if (S_ISREG(st.st_mode)) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
          throw StatusError("error checking context: can't open '" + path + "': " + std::strerror(errno), 1);
        }
        header(child, st, "");
        char buf[64 * 1024];
        ssize_t r;
        while ((r = ::read(fd, buf, sizeof buf)) > 0) archive_write_data(a, buf, static_cast<size_t>(r));
        ::close(fd);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Command> make_build_command() {
  struct Opts {
    std::vector<std::string> tags, build_args, labels, cache_from;
    std::string file, target, iidfile, network, platform;
    bool no_cache = false, pull = false, quiet = false, rm = true, force_rm = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("build", "[OPTIONS] PATH | -", "Build an image from a Dockerfile");
  cmd->alias_paths = {"berth image build", "berth build"};
  cmd->flags.add_list("tag", 't', &o->tags, "Name and optionally a tag in the \"name:tag\" format");
  cmd->flags.add_string("file", 'f', &o->file, "Name of the Dockerfile (Default is \"PATH/Dockerfile\")");
  cmd->flags.add_string("target", 0, &o->target, "Set the target build stage to build.");
  cmd->flags.add_list("build-arg", 0, &o->build_args, "Set build-time variables");
  cmd->flags.add_list("label", 0, &o->labels, "Set metadata for an image");
  cmd->flags.add_list("cache-from", 0, &o->cache_from, "Images to consider as cache sources");
  cmd->flags.add_bool("no-cache", 0, &o->no_cache, "Do not use cache when building the image");
  cmd->flags.add_bool("pull", 0, &o->pull, "Always attempt to pull a newer version of the image");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Suppress the build output and print image ID on success");
  cmd->flags.add_bool("rm", 0, &o->rm, "Remove intermediate containers after a successful build").default_text = "true";
  cmd->flags.add_bool("force-rm", 0, &o->force_rm, "Always remove intermediate containers");
  cmd->flags.add_string("iidfile", 0, &o->iidfile, "Write the image ID to the file");
  cmd->flags.add_string("network", 0, &o->network, "Set the networking mode for the RUN instructions during build")
      .default_text = "\"default\"";
  cmd->flags.add_string("platform", 0, &o->platform, "Set platform if server is multi-platform capable");
  cmd->exact_args(1);
  cmd->run = [o](Context& ctx, const Args& args) {
    const std::string& context = args[0];
    if (context == "-" && o->file == "-") {
      throw StatusError("invalid argument: can't use stdin for both build context and dockerfile", 1);
    }
    Query q;
    for (const auto& t : o->tags) {
      Reference ref;
      if (!Reference::parse(t, &ref)) throw StatusError("invalid argument \"" + t + "\" for \"-t, --tag\" flag: invalid reference format", 125);
      q.add("t", t);
    }
    json::object build_args;
    for (const auto& a : o->build_args) {
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        build_args[a.substr(0, eq)] = a.substr(eq + 1);
      } else if (const char* env = std::getenv(a.c_str())) {
        build_args[a] = env;
      } else {
        build_args[a] = nullptr;
      }
    }
    json::object labels;
    for (const auto& l : o->labels) {
      size_t eq = l.find('=');
      labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }

    // What goes up: stdin as is, stdin's Dockerfile alone, or the directory as a tar.
    std::string stdin_data;
    bool stdin_archive = false;
    std::string dockerfile_name;  // inside the context
    std::string extra_dockerfile;  // -f - or a Dockerfile on stdin: added to the tar
    if (context == "-") {
      stdin_data = read_all_fd(0);
      stdin_archive = looks_like_archive(stdin_data);
      if (!stdin_archive) {
        extra_dockerfile = stdin_data;
        dockerfile_name = "Dockerfile";
      } else if (!o->file.empty()) {
        dockerfile_name = o->file;
      }
    } else {
      struct stat st {};
      if (::stat(context.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        throw StatusError("unable to prepare context: path \"" + context + "\" not found", 1);
      }
      if (o->file == "-") {
        extra_dockerfile = read_all_fd(0);
        dockerfile_name = "__berth_dockerfile_from_stdin";
      } else {
        std::string f = o->file.empty() ? "Dockerfile" : o->file;
        // -f is relative to the working directory; docker sends it relative to the context.
        char resolved_ctx[PATH_MAX], resolved_f[PATH_MAX];
        std::string fpath = o->file.empty() ? context + "/Dockerfile" : f;
        if (::realpath(context.c_str(), resolved_ctx) == nullptr || ::realpath(fpath.c_str(), resolved_f) == nullptr) {
          throw StatusError("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat " +
                                fpath + ": no such file or directory", 1);
        }
        std::string rc = resolved_ctx, rf = resolved_f;
        if (rf.rfind(rc + "/", 0) == 0) {
          dockerfile_name = rf.substr(rc.size() + 1);
        } else {
          // A Dockerfile outside the context travels inside the tar under a private name.
          std::ifstream in(rf, std::ios::binary);
          std::stringstream ss;
          ss << in.rdbuf();
          extra_dockerfile = ss.str();
          dockerfile_name = "__berth_dockerfile_outside_context";
        }
      }
    }
    if (!dockerfile_name.empty()) q.add("dockerfile", dockerfile_name);
    if (!o->target.empty()) q.add("target", o->target);
    if (!build_args.empty()) q.add("buildargs", json::serialize(build_args));
    if (!labels.empty()) q.add("labels", json::serialize(labels));
    if (!o->cache_from.empty()) {
      json::array sources;
      for (const auto& c : o->cache_from) sources.emplace_back(c);
      q.add("cachefrom", json::serialize(sources));
    }
    if (o->no_cache) q.add("nocache", "1");
    if (o->pull) q.add("pull", "1");
    if (o->quiet) q.add("q", "1");
    q.add("rm", o->rm ? "1" : "0");
    if (o->force_rm) q.add("forcerm", "1");
    if (!o->network.empty()) q.add("networkmode", o->network);
    if (!o->platform.empty()) q.add("platform", o->platform);

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw StatusError("pipe failed", 1);
    std::string writer_error;
    std::thread writer([&, context] {
      if (stdin_archive) {
        const char* p = stdin_data.data();
        size_t left = stdin_data.size();
        while (left > 0) {
          ssize_t n = ::write(pipefd[1], p, left);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          p += n;
          left -= static_cast<size_t>(n);
        }
        ::close(pipefd[1]);
        return;
      }
      struct archive* a = archive_write_new();
      archive_write_set_format_pax_restricted(a);
      archive_write_open_fd(a, pipefd[1]);
      try {
        std::string ignore_text;
        if (context != "-") {
          std::ifstream in(context + "/.dockerignore");
          std::stringstream ss;
          ss << in.rdbuf();
          ignore_text = ss.str();
        }
        core::build::IgnoreMatcher ignore(ignore_text);
        ContextWriter w{a, ignore, core::build::clean_relative(dockerfile_name)};
        if (context != "-") w.walk(context, "");
        if (!extra_dockerfile.empty() || context == "-") w.file(dockerfile_name, extra_dockerfile, 0644);
      } catch (const std::exception& e) {
        writer_error = e.what();
      }
      archive_write_close(a);
      archive_write_free(a);
      ::close(pipefd[1]);
    });
    int rfd = pipefd[0];
    std::string image_id;
    try {
      Request req{.method = "POST",
                  .path = "/build",
                  .query = q,
                  .upload = [rfd](char* b, size_t n) -> size_t {
                    ssize_t r;
                    do r = ::read(rfd, b, n);
                    while (r < 0 && errno == EINTR);
                    return r > 0 ? static_cast<size_t>(r) : 0;
                  },
                  .content_type = "application/x-tar"};
      auto resp = ctx.api().send(req);
      ::close(rfd);
      rfd = -1;
      writer.join();
      if (!writer_error.empty()) throw StatusError(writer_error, 1);
      std::cout.flush();
      display_json_stream(resp, 1, ctx.stdout_is_tty(), [&](const json::value& aux) {
        if (aux.is_object()) {
          if (const auto* id = aux.get_object().if_contains("ID"); id != nullptr && id->is_string()) {
            image_id = std::string(id->get_string());
          }
        }
      });
    } catch (const JsonMessageError& e) {
      if (rfd >= 0) ::close(rfd);
      if (writer.joinable()) writer.join();
      // As docker: a failed RUN's exit code is the command's exit status.
      throw StatusError(e.what(), e.code() != 0 ? e.code() : 1);
    } catch (...) {
      if (rfd >= 0) ::close(rfd);
      if (writer.joinable()) writer.join();
      throw;
    }
    if (!o->iidfile.empty()) {
      if (image_id.empty()) throw StatusError("the daemon sent no image id to write to " + o->iidfile, 1);
      std::ofstream out(o->iidfile, std::ios::trunc);
      out << image_id;
      if (!out) throw StatusError("failed to write image ID to file " + o->iidfile, 1);
    }
    return 0;
  };
  return cmd;
}

// `builder prune`: POST /build/prune (docker's legacy-builder form: the cache's step images).
std::unique_ptr<Command> make_builder_command() {
  auto group = make_command("builder", "", "Manage builds");
  auto prune = make_prune_command(PruneCommand{
      .summary = "Remove build cache",
      .warning = "WARNING! This will remove all dangling build cache.\nAre you sure you want to continue?",
      .path = "/build/prune",
      .deleted_key = "CachesDeleted",
      .deleted_title = "Deleted build cache objects:",
      .reports_space = true});
  // Every record is unused between builds, so --all removes what the plain form removes.
  static bool all = false;
  prune->flags.add_bool("all", 'a', &all, "Remove all unused build cache, not just dangling ones");
  group->add(std::move(prune));
  return group;
}

}  // namespace berth::cli
