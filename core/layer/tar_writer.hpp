// A PAX tar encoder shaped like dockerd's output (Go's archive/tar): ustar headers whose mode
// field carries the file-type bits (0o100644, 0o40755), numeric owners without names, and PAX
// records only when a value does not fit ustar (long or non-ASCII names, big ids or sizes,
// xattrs as SCHILY.xattr.*). libarchive's writer masks the type bits out, hence this encoder.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/common/io.hpp"
#include "core/common/result.hpp"

namespace berth::core::layer {

struct TarHeader {
  enum class Type : char {
    kRegular = '0',
    kHardLink = '1',
    kSymlink = '2',
    kChar = '3',
    kBlock = '4',
    kDirectory = '5',
    kFifo = '6',
  };

  std::string name;  // directories end with "/"
  Type type = Type::kRegular;
  std::string linkname;  // symlink target or hard link's first name
  // st_mode-style: file-type bits (S_IFREG, S_IFDIR...; the same values as Go's c_IS*) plus
  // permissions including setuid/setgid/sticky.
  uint32_t mode = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;   // bytes of data that follow (regular files only)
  int64_t mtime = 0;  // unix seconds
  uint32_t devmajor = 0;
  uint32_t devminor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

class TarWriter {
 public:
  explicit TarWriter(Writer& out) : out_(out) {}

  // Starts a member; exactly header.size bytes must follow through write_data().
  Status add(const TarHeader& header);
  Status write_data(std::string_view data);
  // Pads the last member and writes the end-of-archive blocks.
  Status finish();

 private:
  Status end_member();

  Writer& out_;
  int64_t remaining_ = 0;
  int64_t padding_ = 0;
  bool finished_ = false;
};

}  // namespace berth::core::layer
