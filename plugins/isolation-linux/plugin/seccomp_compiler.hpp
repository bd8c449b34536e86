// OCI linux.seccomp compiled to a classic BPF program with libseccomp, in the plugin (berthd's
// process), once per distinct profile. Compiling Docker's default profile costs 15-20 ms of CPU;
// doing it in every container's setup child made it the largest part of a container's start.
// The program goes to the monitor in a memfd and its setup child loads it as it is.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "berth/sdk/result.hpp"
#include "common/oci_spec.hpp"

namespace berth::plugins::isolation {

// The raw program: an array of struct sock_filter, as seccomp(SECCOMP_SET_MODE_FILTER) takes it.
// kInvalidArgument for a profile libseccomp cannot express (unknown action or operator).
sdk::Result<std::string> compile_seccomp(const SeccompSpec& spec);

// A small most-recently-used cache of compiled programs keyed by the whole profile, so a
// daemon running containers from a few profiles compiles each of them once.
class SeccompCache {
 public:
  explicit SeccompCache(size_t capacity = 8) : capacity_(capacity) {}
  sdk::Result<std::shared_ptr<const std::string>> program(const SeccompSpec& spec);

 private:
  size_t capacity_;
  std::mutex mu_;
  std::list<std::pair<std::string, std::shared_ptr<const std::string>>> entries_;  // newest first
};

}  // namespace berth::plugins::isolation
