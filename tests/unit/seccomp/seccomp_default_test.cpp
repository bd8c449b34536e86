// Docker's default seccomp profile: what it allows by default, what each capability adds back,
// and the argument rules (clone without namespace flags, personality).
#include "core/container/seccomp_default.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace {

namespace json = boost::json;
using berth::core::container::default_seccomp_profile;

const std::vector<std::string> kDockerDefaultCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

// Syscalls allowed unconditionally (a rule without args whose action is ALLOW).
std::set<std::string> allowed(const json::object& profile) {
  std::set<std::string> out;
  for (const auto& rule : profile.at("syscalls").as_array()) {
    const auto& o = rule.as_object();
    if (o.at("action").as_string() != "SCMP_ACT_ALLOW" || o.contains("args")) continue;
    for (const auto& n : o.at("names").as_array()) out.insert(std::string(n.as_string()));
  }
  return out;
}

const json::object* rule_for(const json::object& profile, std::string_view name, bool with_args) {
  for (const auto& rule : profile.at("syscalls").as_array()) {
    const auto& o = rule.as_object();
    if (o.contains("args") != with_args) continue;
    for (const auto& n : o.at("names").as_array()) {
      if (n.as_string() == name) return &o;
    }
  }
  return nullptr;
}

TEST(SeccompDefaultProfile, DefaultsToEperm) {
  auto p = default_seccomp_profile(kDockerDefaultCaps);
  EXPECT_EQ(p.at("defaultAction").as_string(), "SCMP_ACT_ERRNO");
  EXPECT_EQ(p.at("defaultErrnoRet").to_number<int>(), 1);
#if defined(__x86_64__)
  const auto& arches = p.at("architectures").as_array();
  ASSERT_EQ(arches.size(), 3U);
  EXPECT_EQ(arches[0].as_string(), "SCMP_ARCH_X86_64");
  EXPECT_EQ(arches[1].as_string(), "SCMP_ARCH_X86");
  EXPECT_EQ(arches[2].as_string(), "SCMP_ARCH_X32");
#endif
}

TEST(SeccompDefaultProfile, OrdinarySyscallsAreAllowed) {
  auto a = allowed(default_seccomp_profile(kDockerDefaultCaps));
  for (const char* name : {"read", "write", "openat", "execve", "clone" /* no: has args */}) {
    if (std::string(name) == "clone") continue;
    EXPECT_TRUE(a.count(name)) << name;
  }
  EXPECT_TRUE(a.count("chroot"));  // CAP_SYS_CHROOT is a default capability
  EXPECT_TRUE(a.count("socket"));
}

TEST(SeccompDefaultProfile, DangerousSyscallsAreNotAllowedByDefault) {
  auto a = allowed(default_seccomp_profile(kDockerDefaultCaps));
  for (const char* name :
       {"keyctl", "add_key",   "request_key",   "mount",      "umount2",     "unshare",
        "setns",  "reboot",    "init_module",   "kexec_load", "userfaultfd", "open_by_handle_at",
        "bpf",    "swapon",    "clock_settime", "syslog",     "clone3",      "acct",
        "iopl",   "pivot_root"}) {
    EXPECT_FALSE(a.count(name)) << name;
  }
}

TEST(SeccompDefaultProfile, CapabilitiesAddTheirSyscalls) {
  auto caps = kDockerDefaultCaps;
  caps.push_back("CAP_SYS_ADMIN");
  caps.push_back("CAP_SYS_MODULE");
  caps.push_back("CAP_SYS_TIME");
  caps.push_back("CAP_SYS_BOOT");
  auto p = default_seccomp_profile(caps);
  auto a = allowed(p);
  for (const char* name :
       {"mount", "umount2", "unshare", "setns", "clone", "clone3", "sethostname", "init_module",
        "finit_module", "delete_module", "settimeofday", "clock_settime", "reboot"}) {
    EXPECT_TRUE(a.count(name)) << name;
  }
  // With CAP_SYS_ADMIN clone is unrestricted: no argument rule is left.
  EXPECT_EQ(rule_for(p, "clone", true), nullptr);
  EXPECT_FALSE(a.count("keyctl"));
}

TEST(SeccompDefaultProfile, PtraceFollowsTheKernelRuleAndCapSysPtrace) {
  auto with = default_seccomp_profile({"CAP_SYS_PTRACE"});
  auto a = allowed(with);
  EXPECT_TRUE(a.count("ptrace"));
  EXPECT_TRUE(a.count("kcmp"));
  EXPECT_TRUE(a.count("pidfd_getfd"));
  auto without = allowed(default_seccomp_profile({}));
  EXPECT_FALSE(without.count("kcmp"));
  EXPECT_FALSE(without.count("pidfd_getfd"));
}

TEST(SeccompDefaultProfile, CloneIsRestrictedWithoutCapSysAdmin) {
  auto p = default_seccomp_profile(kDockerDefaultCaps);
  const json::object* clone = rule_for(p, "clone", true);
  ASSERT_NE(clone, nullptr);
  EXPECT_EQ(clone->at("action").as_string(), "SCMP_ACT_ALLOW");
  const auto& arg = clone->at("args").as_array().at(0).as_object();
  EXPECT_EQ(arg.at("op").as_string(), "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(arg.at("value").to_number<uint64_t>(), 0x7E020000U);
  EXPECT_EQ(arg.at("valueTwo").to_number<uint64_t>(), 0U);
  const json::object* clone3 = rule_for(p, "clone3", false);
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->at("action").as_string(), "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3->at("errnoRet").to_number<int>(), 38);
}

TEST(SeccompDefaultProfile, PersonalityOnlyForHarmlessPersonas) {
  auto p = default_seccomp_profile(kDockerDefaultCaps);
  std::set<uint64_t> values;
  for (const auto& rule : p.at("syscalls").as_array()) {
    const auto& o = rule.as_object();
    if (o.at("names").as_array().at(0).as_string() != "personality") continue;
    ASSERT_TRUE(o.contains("args"));
    values.insert(o.at("args").as_array().at(0).as_object().at("value").to_number<uint64_t>());
  }
  EXPECT_EQ(values, (std::set<uint64_t>{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}));
  EXPECT_FALSE(allowed(p).count("personality"));
}

}  // namespace
