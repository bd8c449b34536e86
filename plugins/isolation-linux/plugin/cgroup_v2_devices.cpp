#include "plugin/cgroup_v2_devices.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "berth/sdk/unique_fd.hpp"
#include "common/sys_util.hpp"

namespace berth::plugins::isolation::cgroup_v2 {
namespace {

// Registers: r1 the context (struct bpf_cgroup_dev_ctx), r2 access bits, r3 device type,
// r4 major, r5 minor, r0 scratch and the verdict.
bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn load_u32(uint8_t dst, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, 1, off, 0); }
bpf_insn mov_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn and_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
bpf_insn rsh_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
bpf_insn jne_imm(uint8_t dst, int32_t imm, int16_t off) {
  return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int32_t access_bits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

}  // namespace

std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> prog = {
      load_u32(2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      mov_reg(3, 2),
      and_imm(3, 0xffff),
      rsh_imm(2, 16),
      load_u32(4, offsetof(bpf_cgroup_dev_ctx, major)),
      load_u32(5, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  // Last match wins: test the rules from the last one back, the first match returns.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    const DeviceRule& r = *it;
    // A type of 'p' (fifo) never reaches the device controller; 'u' is a char device.
    int32_t type = r.type == 'b' ? BPF_DEVCG_DEV_BLOCK
                   : (r.type == 'c' || r.type == 'u') ? BPF_DEVCG_DEV_CHAR
                                                      : 0;
    if (r.type != 'a' && type == 0) continue;
    const int32_t access = access_bits(r.access);
    if (access == 0) continue;
    std::vector<bpf_insn> checks;  // each jumps past the block when the rule does not match
    if (type != 0) checks.push_back(jne_imm(3, type, 0));
    if (access != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
      // Matches when every requested access is in the rule's.
      checks.push_back(mov_reg(0, 2));
      checks.push_back(and_imm(0, ~access & 7));
      checks.push_back(jne_imm(0, 0, 0));
    }
    if (r.major && *r.major >= 0) checks.push_back(jne_imm(4, static_cast<int32_t>(*r.major), 0));
    if (r.minor && *r.minor >= 0) checks.push_back(jne_imm(5, static_cast<int32_t>(*r.minor), 0));
    checks.push_back(mov_imm(0, r.allow ? 1 : 0));
    checks.push_back(exit_insn());
    const auto n = static_cast<int16_t>(checks.size());
    for (int16_t i = 0; i < n; ++i) {
      if (checks[i].code == (BPF_JMP | BPF_JNE | BPF_K)) checks[i].off = static_cast<int16_t>(n - i - 1);
    }
    prog.insert(prog.end(), checks.begin(), checks.end());
    // A rule matching everything ("a *:* rwm") decides every access: what follows would be
    // unreachable, and the verifier refuses unreachable instructions.
    if (n == 2) return prog;
  }
  prog.push_back(mov_imm(0, 0));
  prog.push_back(exit_insn());
  return prog;
}

sdk::Status apply_device_filter(const std::string& dir, const std::vector<DeviceRule>& rules) {
  const auto prog = device_filter_program(rules);
  static const char kLicense[] = "Apache";
  char verifier_log[4096] = {};
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  load.log_buf = reinterpret_cast<uint64_t>(verifier_log);
  load.log_size = sizeof verifier_log;
  load.log_level = 1;
  int prog_fd = static_cast<int>(bpf(BPF_PROG_LOAD, load));
  if (prog_fd < 0) {
    const int err = errno;
    return sdk::make_error(
        sdk::ErrorCode::kUnsupported,
        "device rules on cgroup v2 need an eBPF device program, and loading it failed (" +
            errno_text(err) + "): berthd needs CAP_SYS_ADMIN (root) and a kernel with "
            "CONFIG_CGROUP_BPF" + (verifier_log[0] ? std::string("; verifier: ") + verifier_log : ""));
  }
  sdk::UniqueFd prog_owner(prog_fd);
  sdk::UniqueFd cgroup(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (cgroup.get() < 0) return sdk::errno_error("open cgroup " + dir + " to attach device rules");

  // The programs attached before (an update), detached once the new one is in place: the
  // cgroup is never without a filter.
  uint32_t old_ids[64] = {};
  bpf_attr query{};
  query.query.target_fd = static_cast<uint32_t>(cgroup.get());
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = reinterpret_cast<uint64_t>(old_ids);
  query.query.prog_cnt = 64;
  const bool queried = bpf(BPF_PROG_QUERY, query) == 0;

  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cgroup.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attach) != 0) {
    return sdk::errno_error("attach the device rules' eBPF program to " + dir);
  }
  for (uint32_t i = 0; queried && i < query.query.prog_cnt && i < 64; ++i) {
    bpf_attr get{};
    get.prog_id = old_ids[i];
    sdk::UniqueFd old(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, get)));
    if (old.get() < 0) continue;
    bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(cgroup.get());
    detach.attach_bpf_fd = static_cast<uint32_t>(old.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    (void)bpf(BPF_PROG_DETACH, detach);
  }
  return {};
}

}  // namespace berth::plugins::isolation::cgroup_v2
