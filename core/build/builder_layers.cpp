// Layers the builder writes itself (COPY/ADD of files): the tar goes from a writer thread through
// a pipe straight into the layer store, which unpacks it into the snapshot and takes its DiffID
// on the way. A commit of a step container would instead write the files into the container,
// walk its upper directory, spool the tar into the content store (fsynced) and unpack it again.
#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <sys/stat.h>

#include <ctime>
#include <thread>

#include "core/build/build_run.hpp"
#include "core/common/time.hpp"
#include "core/common/unique_fd.hpp"
#include "core/container/container_manager.hpp"
#include "core/image/image_config.hpp"

namespace berth::core::build {

namespace json = boost::json;

// The headers of COPY's destination directory and those above it, as its layer holds them:
// an existing directory with its metadata (as the image has it), a missing one 0755 and owned by
// `owner` (as mkdir -p in the container would make it). Symlinks resolve inside the image.
Result<std::vector<layer::TarHeader>> destination_headers(const std::string& troot, const layer::IdShift& ids,
                                                         const std::string& dest_dir, container::Owner owner) {
  auto resolved = resolve_in_root(troot, dest_dir, true);
  if (!resolved) return resolved.error();
  std::vector<layer::TarHeader> out;
  std::string prefix;
  const int64_t now = ::time(nullptr);
  size_t i = 0;
  while (i < resolved->size()) {
    size_t j = resolved->find('/', i);
    if (j == std::string::npos) j = resolved->size();
    prefix = resolved->substr(0, j);
    i = j + 1;
    layer::TarHeader h;
    h.name = prefix + "/";
    h.type = layer::TarHeader::Type::kDirectory;
    struct stat pst{};
    if (::lstat((troot + "/" + prefix).c_str(), &pst) == 0) {
      if (!S_ISDIR(pst.st_mode)) {
        return make_error(ErrorCode::kInvalidArgument, "/" + prefix + " is not a directory in the image");
      }
      h.mode = pst.st_mode;
      h.uid = ids.uids.to_container(pst.st_uid);
      h.gid = ids.gids.to_container(pst.st_gid);
      h.mtime = pst.st_mtim.tv_sec;
    } else {
      h.mode = S_IFDIR | 0755;
      h.uid = owner.uid;
      h.gid = owner.gid;
      h.mtime = now;
    }
    out.push_back(std::move(h));
  }
  return out;
}

Result<image::LayerRecord> Builder::Run::write_layer(const std::function<Status(Writer&)>& write,
                                                     const std::string& parent_image) {
  std::string parent_chain;
  if (!parent_image.empty()) {
    auto img = builder.images_.resolve(parent_image);
    if (!img) return img.error();
    parent_chain = img->record.top_chain;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error("create the layer pipe");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  // Bigger pipe buffers mean fewer switches between the two threads (best effort).
  (void)::fcntl(write_end.get(), F_SETPIPE_SZ, 1 << 20);
  Status written;
  std::thread writer([&] {
    FdWriter out(write_end.get());
    written = write(out);
    write_end.reset();  // EOF for the reader
  });
  FdReader in(read_end.get());
  // The build's own job, as its step containers run under (the build is not cancelled through
  // the driver: a client gone stops it between steps).
  auto ctx = container::background_context("build");
  auto layer = builder.images_.ingest_layer(ctx, parent_chain, in, std::nullopt);
  if (layer) {
    // Whatever the layer store left unread (padding after the end blocks) is drained, so a
    // complete tar is never reported as a failed write.
    std::string rest(1 << 16, '\0');
    while (::read(read_end.get(), rest.data(), rest.size()) > 0) {
    }
  }
  // A reader that stopped early makes the writer's next write fail (EPIPE) instead of blocking.
  read_end.reset();
  writer.join();
  if (!written) {
    // A tar cut short may still have read as a whole one: the layer is not used.
    if (layer) builder.images_.release_chain(ctx, layer->chain_id);
    return written.error();
  }
  return layer;
}

Result<std::string> Builder::Run::commit_layer(StageState& st, const image::LayerRecord& layer,
                                               const std::string& created_by, json::object container_config,
                                               const std::string& container_id) {
  json::object doc = st.image;
  std::string now = rfc3339_nano(now_unix_nano());
  doc["created"] = now;
  // As a commit of the step's container would say (docker's legacy builder does the same).
  container_config["Image"] = st.image_id;
  doc["config"] = std::move(container_config);
  doc["container"] = container_id;
  json::array history;
  if (const auto* h = doc.if_contains("history"); h != nullptr && h->is_array()) history = h->get_array();
  history.push_back(json::object{{"created", now}, {"created_by", created_by}});
  doc["history"] = std::move(history);
  json::array diff_ids;
  if (const auto* r = doc.if_contains("rootfs"); r != nullptr && r->is_object()) {
    if (const auto* d = r->get_object().if_contains("diff_ids"); d != nullptr && d->is_array()) diff_ids = d->get_array();
  }
  diff_ids.emplace_back(layer.diff_id);
  doc["rootfs"] = json::object{{"type", "layers"}, {"diff_ids", std::move(diff_ids)}};
  auto id = builder.images_.create_image(image::encode_config(doc), st.image_id);
  if (!id) {
    auto ctx = container::background_context("build");
    builder.images_.release_chain(ctx, layer.chain_id);
    return std::move(id).error().wrap("store the image of step " + std::to_string(step));
  }
  return *id;
}

}  // namespace berth::core::build
