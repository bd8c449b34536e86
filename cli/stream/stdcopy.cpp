#include "cli/stream/stdcopy.hpp"

#include <algorithm>

namespace berth::cli {

void StdDemuxer::feed(std::string_view data) {
  while (!data.empty()) {
    if (remaining_ == 0) {
      size_t need = 8 - header_.size();
      size_t take = std::min(need, data.size());
      header_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (header_.size() < 8) return;
      stream_ = static_cast<unsigned char>(header_[0]);
      remaining_ = (static_cast<uint32_t>(static_cast<unsigned char>(header_[4])) << 24) |
                   (static_cast<uint32_t>(static_cast<unsigned char>(header_[5])) << 16) |
                   (static_cast<uint32_t>(static_cast<unsigned char>(header_[6])) << 8) |
                   static_cast<uint32_t>(static_cast<unsigned char>(header_[7]));
      header_.clear();
      if (remaining_ == 0) continue;
    }
    size_t take = std::min<size_t>(remaining_, data.size());
    sink_(stream_, data.substr(0, take));
    remaining_ -= static_cast<uint32_t>(take);
    data.remove_prefix(take);
  }
}

std::string make_frame(int stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  auto n = static_cast<uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f + std::string(payload);
}

}  // namespace berth::cli
