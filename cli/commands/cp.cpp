// berth cp: tar streams through the archive endpoints (libarchive on the client side).
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <algorithm>
#include <memory>
#include <thread>

#include "berth/sdk/base64.hpp"
#include "berth/sdk/fs.hpp"
#include "cli/app/errors.hpp"
#include "cli/client/registry_auth.hpp"
#include "cli/commands/common.hpp"
#include "cli/format/human.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace {

constexpr int64_t kGoModeDir = int64_t{1} << 31;
constexpr int64_t kGoModeSymlink = int64_t{1} << 27;

struct PathStat {
  bool exists = false;
  bool is_dir = false;
  bool is_symlink = false;
  std::string link_target;
};

PathStat decode_stat_header(const std::string& header) {
  PathStat st;
  auto decoded = header.empty() ? std::nullopt : sdk::base64_decode(header);
  if (!decoded) throw StatusError("unable to get resource stat from response", 1);
  json::value v = parse_json(*decoded);
  int64_t mode = jint(v, "mode");
  st.exists = true;
  st.is_dir = (mode & kGoModeDir) != 0;
  st.is_symlink = (mode & kGoModeSymlink) != 0;
  st.link_target = jstr(v, "linkTarget");
  return st;
}

std::string base_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string dir_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

// Replaces the first path component `from` with `to` ("dir/a" -> "out/a").
std::string rebase(const std::string& name, const std::string& from, const std::string& to) {
  if (from.empty() || from == to) return name;
  if (name == from || name == from + "/") return to + name.substr(from.size());
  if (name.starts_with(from + "/")) return to + name.substr(from.size());
  return name;
}

struct ReadCtx {
  Response* resp;
  std::string buf;
  int64_t total = 0;
};

la_ssize_t read_cb(struct archive*, void* client, const void** data) {
  auto* ctx = static_cast<ReadCtx*>(client);
  ctx->buf.clear();
  if (!ctx->resp->read_some(ctx->buf)) return 0;
  ctx->total += static_cast<int64_t>(ctx->buf.size());
  *data = ctx->buf.data();
  return static_cast<la_ssize_t>(ctx->buf.size());
}

void copy_from_container(Context& ctx, const std::string& container, const std::string& src,
                         const std::string& dst) {
  auto resp = ctx.api().send(Request{.path = "/containers/" + path_escape(container) + "/archive",
                                     .query = Query().add("path", src)});
  PathStat src_stat = decode_stat_header(resp.header("X-Docker-Container-Path-Stat"));
  if (dst == "-") {
    std::cout.flush();
    std::string chunk;
    while (resp.read_some(chunk)) {
      write_stdout(chunk);
      chunk.clear();
    }
    return;
  }
  struct stat ds {};
  bool dst_exists = ::stat(dst.c_str(), &ds) == 0;
  bool dst_dir = dst_exists && S_ISDIR(ds.st_mode);
  std::string extract_dir, from, to;
  std::string src_base = base_name(src);
  if (dst_dir) {
    extract_dir = dst;
  } else {
    if (dst_exists && src_stat.is_dir)
      throw StatusError("cannot copy a directory to a file", 1);
    if (!dst_exists && dst.ends_with("/"))
      throw StatusError("destination \"" + dst + "\" does not exist", 1);
    struct stat ps {};
    std::string parent = dir_name(dst);
    if (::stat(parent.c_str(), &ps) != 0 || !S_ISDIR(ps.st_mode))
      throw StatusError("lstat " + parent + ": no such file or directory", 1);
    extract_dir = parent;
    from = src_base;
    to = base_name(dst);
  }
  struct archive* in = archive_read_new();
  archive_read_support_format_tar(in);
  archive_read_support_filter_none(in);
  struct archive* out = archive_write_disk_new();
  archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                          ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                          ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  archive_write_disk_set_standard_lookup(out);
  ReadCtx rc{&resp, {}, 0};
  std::string error;
  if (archive_read_open(in, &rc, nullptr, read_cb, nullptr) != ARCHIVE_OK) {
    error = archive_error_string(in) ? archive_error_string(in) : "cannot read archive";
  }
  while (error.empty()) {
    struct archive_entry* entry;
    int r = archive_read_next_header(in, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      error = archive_error_string(in);
      break;
    }
    std::string name = rebase(archive_entry_pathname(entry), from, to);
    archive_entry_set_pathname(entry, (extract_dir + "/" + name).c_str());
    if (const char* hl = archive_entry_hardlink(entry))
      archive_entry_set_hardlink(entry, (extract_dir + "/" + rebase(hl, from, to)).c_str());
    if (geteuid() != 0) {
      archive_entry_set_uid(entry, geteuid());
      archive_entry_set_gid(entry, getegid());
    }
    if (archive_write_header(out, entry) < ARCHIVE_WARN) {
      error = archive_error_string(out);
      break;
    }
    const void* buf;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK)
      archive_write_data_block(out, buf, size, offset);
    if (r < ARCHIVE_WARN) {
      error = archive_error_string(in);
      break;
    }
    archive_write_finish_entry(out);
  }
  archive_read_free(in);
  archive_write_close(out);
  archive_write_free(out);
  if (!error.empty()) throw StatusError(error, 1);
  if (::isatty(2)) std::cerr << "Successfully copied " << human_size(static_cast<double>(rc.total), 3)
                             << " to " << dst << "\n";
}

// Writes `path` (file, dir recursively, symlink) into the tar as `name`.
void add_to_tar(struct archive* a, const std::string& path, const std::string& name,
                bool keep_ids, int64_t* bytes) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    throw StatusError("lstat " + path + ": " + std::strerror(errno), 1);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, (S_ISDIR(st.st_mode) ? name + "/" : name).c_str());
  archive_entry_copy_stat(e, &st);
  if (!keep_ids) {
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
  }
  archive_entry_set_uname(e, "");
  archive_entry_set_gname(e, "");
  if (S_ISLNK(st.st_mode)) {
    if (auto target = sdk::fs::read_link(path)) archive_entry_set_symlink(e, target->c_str());
    archive_entry_set_size(e, 0);
  }
  if (!S_ISREG(st.st_mode)) archive_entry_set_size(e, 0);
  archive_write_header(a, e);
  archive_entry_free(e);
  if (S_ISREG(st.st_mode)) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw StatusError("open " + path + ": " + std::strerror(errno), 1);
    char buf[64 * 1024];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
      archive_write_data(a, buf, static_cast<size_t>(n));
      *bytes += n;
    }
    ::close(fd);
  } else if (S_ISDIR(st.st_mode)) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return;
    std::vector<std::string> children;
    while (auto* de = ::readdir(d)) {
      std::string n = de->d_name;
      if (n != "." && n != "..") children.push_back(n);
    }
    ::closedir(d);
    std::sort(children.begin(), children.end());
    for (auto& c : children) add_to_tar(a, path + "/" + c, name + "/" + c, keep_ids, bytes);
  }
}

void copy_to_container(Context& ctx, const std::string& src, const std::string& container,
                       const std::string& dst, bool keep_ids) {
  struct stat st {};
  if (src != "-" && ::lstat(src.c_str(), &st) != 0)
    throw StatusError("lstat " + src + ": no such file or directory", 1);
  ApiClient& api = ctx.api();
  std::string path = "/containers/" + path_escape(container) + "/archive";
  PathStat dst_stat;
  {
    auto head = api.send_raw(Request{.method = "HEAD", .path = path,
                                     .query = Query().add("path", dst)});
    if (head.status() == 200) {
      dst_stat = decode_stat_header(head.header("X-Docker-Container-Path-Stat"));
    } else if (head.status() != 404) {
      api.throw_api_error(head, path);
    }
  }
  std::string upload_dir, entry_name;
  if (src == "-") {
    // A tar from stdin is extracted as is into the destination directory.
    if (!dst_stat.exists || !dst_stat.is_dir)
      throw StatusError("destination \"" + container + ":" + dst + "\" must be a directory", 1);
    Query q;
    q.add("path", dst).add("noOverwriteDirNonDir", "true");
    if (keep_ids) q.add("copyUIDGID", "true");
    api.call(Request{.method = "PUT", .path = path, .query = q,
                     .upload = [](char* b, size_t n) -> size_t {
                       ssize_t r = ::read(0, b, n);
                       return r > 0 ? static_cast<size_t>(r) : 0;
                     },
                     .content_type = "text/plain"});
    return;
  }
  bool src_dir = S_ISDIR(st.st_mode);
  if (dst_stat.exists && dst_stat.is_dir) {
    upload_dir = dst;
    entry_name = base_name(src);
  } else if (dst_stat.exists) {
    if (src_dir) throw StatusError("cannot copy a directory to a file", 1);
    upload_dir = dir_name(dst);
    entry_name = base_name(dst);
  } else {
    if (dst.ends_with("/"))
      throw StatusError("destination \"" + container + ":" + dst + "\" does not exist", 1);
    upload_dir = dir_name(dst);
    entry_name = base_name(dst);
  }
  // The tar is produced by a writer thread into a pipe and streamed as a chunked body.
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw StatusError("pipe failed", 1);
  int64_t bytes = 0;
  std::string writer_error;
  std::thread writer([&] {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_fd(a, pipefd[1]);
    try {
      add_to_tar(a, src, entry_name, keep_ids, &bytes);
    } catch (const std::exception& e) {
      writer_error = e.what();
    }
    archive_write_close(a);
    archive_write_free(a);
    ::close(pipefd[1]);
  });
  Query q;
  q.add("path", upload_dir).add("noOverwriteDirNonDir", "true");
  if (keep_ids) q.add("copyUIDGID", "true");
  int rfd = pipefd[0];
  try {
    api.call(Request{.method = "PUT", .path = path, .query = q,
                     .upload = [rfd](char* b, size_t n) -> size_t {
                       ssize_t r;
                       do r = ::read(rfd, b, n);
                       while (r < 0 && errno == EINTR);
                       return r > 0 ? static_cast<size_t>(r) : 0;
                     },
                     .content_type = "text/plain"});
  } catch (...) {
    ::close(rfd);
    writer.join();
    throw;
  }
  ::close(rfd);
  writer.join();
  if (!writer_error.empty()) throw StatusError(writer_error, 1);
  if (::isatty(2))
    std::cerr << "Successfully copied " << human_size(static_cast<double>(bytes), 3) << " to "
              << container << ":" << dst << "\n";
}

// "name:path" -> (name, path); a local path has no colon before its first slash.
bool split_container_path(const std::string& arg, std::string* container, std::string* path) {
  if (arg.empty() || arg[0] == '/' || arg[0] == '.') return false;
  auto colon = arg.find(':');
  if (colon == std::string::npos) return false;
  auto slash = arg.find('/');
  if (slash != std::string::npos && slash < colon) return false;
  *container = arg.substr(0, colon);
  *path = arg.substr(colon + 1);
  return true;
}

}  // namespace

std::unique_ptr<Command> make_cp() {
  struct Opts {
    bool archive = false, follow = false, quiet = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("cp",
                          "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] "
                          "SRC_PATH|- CONTAINER:DEST_PATH",
                          "Copy files/folders between a container and the local filesystem");
  cmd->alias_paths = {"berth container cp", "berth cp"};
  cmd->flags.add_bool("archive", 'a', &o->archive, "Archive mode (copy all uid/gid information)");
  cmd->flags.add_bool("follow-link", 'L', &o->follow, "Always follow symbol link in SRC_PATH");
  cmd->flags.add_bool("quiet", 'q', &o->quiet,
                      "Suppress progress output during copy. Progress output is automatically "
                      "suppressed if no terminal is attached");
  cmd->exact_args(2);
  cmd->run = [o](Context& ctx, const Args& args) -> int {
    if (args[0].empty()) throw StatusError("source can not be empty", 1);
    if (args[1].empty()) throw StatusError("destination can not be empty", 1);
    std::string sc, sp, dc, dp;
    bool src_ctr = split_container_path(args[0], &sc, &sp);
    bool dst_ctr = split_container_path(args[1], &dc, &dp);
    if (src_ctr && dst_ctr) throw StatusError("copying between containers is not supported", 1);
    if (!src_ctr && !dst_ctr)
      throw StatusError("must specify at least one container source", 1);
    if (src_ctr) copy_from_container(ctx, sc, sp, args[1]);
    else copy_to_container(ctx, args[0], dc, dp, o->archive);
    return 0;
  };
  return cmd;
}

}  // namespace berth::cli
