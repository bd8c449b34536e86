// A remapped container's files (--userns-remap): what the container writes is stored with host
// ids (its root is an unprivileged host id). Archives of its filesystem (docker cp, export,
// commit) carry the container's ids and extraction into it stores the host's, as dockerd does.
#pragma once

#include <cstdint>

namespace berth::core::layer {

struct IdRangeShift {
  uint32_t base = 0;  // the host id of the container's id 0
  uint32_t size = 0;  // 0: no shift

  [[nodiscard]] uint32_t to_container(uint32_t id) const {
    return id >= base && id - base < size ? id - base : id;
  }
  [[nodiscard]] uint32_t to_host(uint32_t id) const { return id < size ? id + base : id; }
};

struct IdShift {
  IdRangeShift uids, gids;
};

}  // namespace berth::core::layer
