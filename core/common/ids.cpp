#include "core/common/ids.hpp"

#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

namespace berth {

std::string random_hex(size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");  // the kernel has no entropy API: fatal
    }
    got += static_cast<size_t>(n);
  }
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string new_object_id() {
  for (;;) {
    std::string id = random_hex(32);
    for (size_t i = 0; i < 12; ++i) {
      if (id[i] >= 'a') return id;
    }
  }
}

}  // namespace berth
