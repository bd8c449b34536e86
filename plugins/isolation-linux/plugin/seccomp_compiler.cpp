#include "plugin/seccomp_compiler.hpp"

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <utility>
#include <vector>

#include "common/sys_util.hpp"
#include "common/unique_fd.hpp"

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

struct FilterContext {
  scmp_filter_ctx ctx;
  ~FilterContext() {
    if (ctx != nullptr) seccomp_release(ctx);
  }
};

// libseccomp 2.5 exports only to a file descriptor: a memfd, read back.
sdk::Result<std::string> export_program(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("berth-seccomp", MFD_CLOEXEC));
  if (!fd) return sdk::errno_error("seccomp: memfd_create");
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc != 0) return seccomp_error("export", rc);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sdk::errno_error("seccomp: fstat");
  std::string program(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < program.size()) {
    ssize_t n = ::pread(fd.get(), program.data() + done, program.size() - done,
                        static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sdk::errno_error("seccomp: read the exported program");
    done += static_cast<size_t>(n);
  }
  return program;
}

}  // namespace

sdk::Result<std::string> compile_seccomp(const SeccompSpec& spec) {
  auto default_action = action_of(spec.default_action, spec.default_errno_ret, std::nullopt);
  if (!default_action) return std::move(default_action).error();
  FilterContext filter{seccomp_init(*default_action)};
  if (filter.ctx == nullptr) {
    return sdk::make_error(sdk::ErrorCode::kInternal, "seccomp: init failed");
  }
  scmp_filter_ctx ctx = filter.ctx;
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
  return export_program(ctx);
}

namespace {

// The whole profile as one string: the cache's key, compared in full (no hash to collide).
std::string profile_key(const SeccompSpec& spec) {
  std::string key = spec.default_action + '|' +
                    (spec.default_errno_ret ? std::to_string(*spec.default_errno_ret) : "-");
  for (const auto& arch : spec.architectures) key += '|' + arch;
  for (const auto& rule : spec.syscalls) {
    key += "\n" + rule.action + '|' + (rule.errno_ret ? std::to_string(*rule.errno_ret) : "-");
    for (const auto& name : rule.names) key += ',' + name;
    for (const auto& a : rule.args) {
      key += ';' + std::to_string(a.index) + ' ' + a.op + ' ' + std::to_string(a.value) + ' ' +
             std::to_string(a.value_two);
    }
  }
  return key;
}

}  // namespace

sdk::Result<std::shared_ptr<const std::string>> SeccompCache::program(const SeccompSpec& spec) {
  std::string key = profile_key(spec);
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == key) {
        entries_.splice(entries_.begin(), entries_, it);
        return it->second;
      }
    }
  }
  // Compiled outside the lock: two containers racing on a new profile both compile it once.
  auto compiled = compile_seccomp(spec);
  if (!compiled) return std::move(compiled).error();
  auto program = std::make_shared<const std::string>(std::move(*compiled));
  std::lock_guard lock(mu_);
  entries_.emplace_front(std::move(key), program);
  if (entries_.size() > capacity_) entries_.pop_back();
  return program;
}

}  // namespace berth::plugins::isolation
