#include "cli/app/context.hpp"

#include <unistd.h>

namespace berth::cli {

std::string Context::host() const {
  return opts_.host.empty() ? std::string(Address::kDefault) : opts_.host;
}

ApiClient& Context::api() {
  if (!api_) api_ = std::make_unique<ApiClient>(Address::parse(host()));
  return *api_;
}

bool Context::stdin_is_tty() const { return ::isatty(0) == 1; }
bool Context::stdout_is_tty() const { return ::isatty(1) == 1; }

}  // namespace berth::cli
