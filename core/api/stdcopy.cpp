#include "core/api/stdcopy.hpp"

namespace berth::core::api {

std::string stdcopy_frame(int stream, std::string_view payload) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  auto n = static_cast<uint32_t>(payload.size());
  out[4] = static_cast<char>((n >> 24) & 0xff);
  out[5] = static_cast<char>((n >> 16) & 0xff);
  out[6] = static_cast<char>((n >> 8) & 0xff);
  out[7] = static_cast<char>(n & 0xff);
  out.append(payload);
  return out;
}

std::string StdcopyUnframer::feed(std::string_view data) {
  std::string out;
  while (!data.empty()) {
    if (left_ == 0) {
      size_t take = std::min<size_t>(8 - header_.size(), data.size());
      header_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (header_.size() < 8) break;
      auto b = [&](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(header_[i])); };
      left_ = (b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7);
      header_.clear();
      continue;
    }
    size_t take = std::min<size_t>(left_, data.size());
    out.append(data.substr(0, take));
    data.remove_prefix(take);
    left_ -= static_cast<uint32_t>(take);
  }
  return out;
}

}  // namespace berth::core::api
