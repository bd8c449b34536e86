#include "tests/support/tar_builder.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <stdexcept>

namespace berth::testing {

std::string make_tar(const std::vector<TarEntry>& entries, bool gzip) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  auto write_cb = [](archive*, void* ctx, const void* data, size_t n) -> la_ssize_t {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), n);
    return static_cast<la_ssize_t>(n);
  };
  if (archive_write_open(a, &out, nullptr, write_cb, nullptr) != ARCHIVE_OK) {
    throw std::runtime_error("archive_write_open failed");
  }
  for (const auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_mtime(ae, 1700000000, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    switch (e.type) {
      case TarEntry::kFile:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, e.mode);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.content.size()));
        break;
      case TarEntry::kDir:
        archive_entry_set_filetype(ae, AE_IFDIR);
        archive_entry_set_perm(ae, e.mode == 0644 ? 0755 : e.mode);
        break;
      case TarEntry::kSymlink:
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_perm(ae, 0777);
        archive_entry_set_symlink(ae, e.link.c_str());
        break;
      case TarEntry::kHardlink:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, e.mode);
        archive_entry_set_hardlink(ae, e.link.c_str());
        archive_entry_set_size(ae, 0);
        break;
    }
    if (archive_write_header(a, ae) != ARCHIVE_OK) {
      archive_entry_free(ae);
      throw std::runtime_error(std::string("archive_write_header: ") + archive_error_string(a));
    }
    if (e.type == TarEntry::kFile && !e.content.empty()) {
      archive_write_data(a, e.content.data(), e.content.size());
    }
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace berth::testing
