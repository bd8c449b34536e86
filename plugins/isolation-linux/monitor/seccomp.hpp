// OCI linux.seccomp compiled with libseccomp. Compiled early (it allocates) and loaded late: just
// before dropping capabilities, or, with noNewPrivileges, as the very last step before execve.
#pragma once

#include <memory>

#include "berth/sdk/result.hpp"
#include "common/oci_spec.hpp"

namespace berth::plugins::isolation {

class SeccompFilter {
 public:
  SeccompFilter() = default;
  ~SeccompFilter();
  SeccompFilter(SeccompFilter&& other) noexcept;
  SeccompFilter& operator=(SeccompFilter&& other) noexcept;
  SeccompFilter(const SeccompFilter&) = delete;
  SeccompFilter& operator=(const SeccompFilter&) = delete;

  static sdk::Result<SeccompFilter> compile(const SeccompSpec& spec);
  [[nodiscard]] bool empty() const { return ctx_ == nullptr; }
  sdk::Status load();

 private:
  void* ctx_ = nullptr;  // scmp_filter_ctx
};

}  // namespace berth::plugins::isolation
