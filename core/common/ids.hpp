// Random identifiers: container, exec, network and volume ids (64 lowercase hex chars).
#pragma once

#include <cstddef>
#include <string>

namespace berth {

// `bytes` random bytes from the kernel as lowercase hex (2 * bytes characters).
std::string random_hex(size_t bytes);

// A 64-hex id that is not all digits (the docker CLI treats such ids like any other, but
// short prefixes that look numeric are confusing in `ps`).
std::string new_object_id();

}  // namespace berth
