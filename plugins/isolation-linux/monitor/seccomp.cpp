#include "monitor/seccomp.hpp"

#include <seccomp.h>

#include <cctype>
#include <cerrno>
#include <utility>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation {
namespace {

sdk::Error seccomp_error(const std::string& what, int rc) {
  return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                         "seccomp: " + what + ": " + errno_text(rc < 0 ? -rc : rc));
}

sdk::Result<uint32_t> action_of(const std::string& name, std::optional<uint32_t> errno_ret,
                                std::optional<uint32_t> default_errno) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_ERRNO") {
    return SCMP_ACT_ERRNO(static_cast<uint16_t>(errno_ret.value_or(default_errno.value_or(EPERM))));
  }
  if (name == "SCMP_ACT_TRACE") {
    return SCMP_ACT_TRACE(static_cast<uint16_t>(errno_ret.value_or(default_errno.value_or(EPERM))));
  }
  return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                         "seccomp: unsupported action \"" + name + "\"");
}

sdk::Result<scmp_compare> op_of(const std::string& name) {
  if (name == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (name == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (name == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (name == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (name == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (name == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                         "seccomp: unknown operator \"" + name + "\"");
}

// "SCMP_ARCH_X86_64" -> libseccomp's token; 0 for an architecture it does not know.
uint32_t arch_of(const std::string& name) {
  std::string_view n = name;
  if (n.substr(0, 10) == "SCMP_ARCH_") n.remove_prefix(10);
  std::string lower;
  for (char c : n) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return seccomp_arch_resolve_name(lower.c_str());
}

}  // namespace

SeccompFilter::~SeccompFilter() {
  if (ctx_ != nullptr) seccomp_release(static_cast<scmp_filter_ctx>(ctx_));
}

SeccompFilter::SeccompFilter(SeccompFilter&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)) {}

SeccompFilter& SeccompFilter::operator=(SeccompFilter&& other) noexcept {
  if (this != &other) {
    if (ctx_ != nullptr) seccomp_release(static_cast<scmp_filter_ctx>(ctx_));
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

sdk::Result<SeccompFilter> SeccompFilter::compile(const SeccompSpec& spec) {
  auto default_action = action_of(spec.default_action, spec.default_errno_ret, std::nullopt);
  if (!default_action) return std::move(default_action).error();
  SeccompFilter filter;
  filter.ctx_ = seccomp_init(*default_action);
  if (filter.ctx_ == nullptr) {
    return sdk::make_error(sdk::ErrorCode::kInternal, "seccomp: init failed");
  }
  auto* ctx = static_cast<scmp_filter_ctx>(filter.ctx_);
  // libseccomp sets no_new_privs on load by default; the spec decides that, not the filter.
  if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); rc != 0) {
    return seccomp_error("disable no_new_privs", rc);
  }
  for (const auto& arch : spec.architectures) {
    uint32_t token = arch_of(arch);
    if (token == 0) continue;
    int rc = seccomp_arch_add(ctx, token);
    if (rc != 0 && rc != -EEXIST) return seccomp_error("add architecture " + arch, rc);
  }
  for (const auto& rule : spec.syscalls) {
    auto action = action_of(rule.action, rule.errno_ret, spec.default_errno_ret);
    if (!action) return std::move(action).error();
    if (*action == *default_action) continue;  // libseccomp refuses rules that change nothing
    std::vector<scmp_arg_cmp> conditions;
    bool repeated_index = false;
    for (const auto& arg : rule.args) {
      auto op = op_of(arg.op);
      if (!op) return std::move(op).error();
      for (const auto& c : conditions) repeated_index = repeated_index || c.arg == arg.index;
      conditions.push_back(scmp_arg_cmp{arg.index, *op, arg.value, arg.value_two});
    }
    for (const auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: runc ignores it too
      auto add = [&](unsigned count, const scmp_arg_cmp* args) {
        int rc = seccomp_rule_add_array(ctx, *action, nr, count, args);
        // -EEXIST: the same rule twice; -EDOM and -EINVAL: not expressible for one of the extra
        // architectures (a pseudo syscall there). Neither should fail the container.
        if (rc != 0 && rc != -EEXIST && rc != -EDOM && rc != -EINVAL && rc != -EOPNOTSUPP) {
          return seccomp_error("add rule for " + name, rc);
        }
        return sdk::Error{};
      };
      if (repeated_index) {
        // libseccomp ANDs conditions on different arguments only: several conditions on the same
        // argument become one rule each (OR), as runc does.
        for (const auto& c : conditions) {
          auto e = add(1, &c);
          if (!e.message.empty()) return e;
        }
      } else {
        auto e = add(static_cast<unsigned>(conditions.size()), conditions.data());
        if (!e.message.empty()) return e;
      }
    }
  }
  return filter;
}

sdk::Status SeccompFilter::load() {
  if (ctx_ == nullptr) return {};
  int rc = seccomp_load(static_cast<scmp_filter_ctx>(ctx_));
  if (rc != 0) return seccomp_error("load filter", rc);
  return {};
}

}  // namespace berth::plugins::isolation
