#include "plugin/cgroup_v2_devices.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::plugins::isolation::cgroup_v2 {
namespace {

// Runs the compiled program the way the kernel would for one access: only the instructions the
// compiler emits (32-bit loads from the context, 32-bit mov/and/rsh, jne, exit).
int run(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor, char access) {
  uint32_t t = type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
  uint32_t a = access == 'm' ? BPF_DEVCG_ACC_MKNOD : access == 'r' ? BPF_DEVCG_ACC_READ : BPF_DEVCG_ACC_WRITE;
  bpf_cgroup_dev_ctx ctx{(a << 16) | t, major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        EXPECT_EQ(i.src_reg, 1);
        reg[i.dst_reg] = *reinterpret_cast<const uint32_t*>(reinterpret_cast<const char*>(&ctx) + i.off);
        break;
      case BPF_ALU | BPF_MOV | BPF_X: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.src_reg]); break;
      case BPF_ALU | BPF_MOV | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(i.imm); break;
      case BPF_ALU | BPF_AND | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg] & static_cast<uint32_t>(i.imm)); break;
      case BPF_ALU | BPF_RSH | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) >> i.imm; break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (reg[i.dst_reg] != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(reg[0]);
      default: ADD_FAILURE() << "unexpected opcode " << int(i.code); return -1;
    }
  }
  ADD_FAILURE() << "fell off the end";
  return -1;
}

// The kernel's verifier refuses a program with an instruction no path reaches.
bool every_instruction_reachable(const std::vector<bpf_insn>& prog) {
  std::vector<bool> seen(prog.size(), false);
  std::vector<size_t> todo{0};
  while (!todo.empty()) {
    size_t pc = todo.back();
    todo.pop_back();
    if (pc >= prog.size() || seen[pc]) continue;
    seen[pc] = true;
    if (prog[pc].code == (BPF_JMP | BPF_EXIT)) continue;
    if (prog[pc].code == (BPF_JMP | BPF_JNE | BPF_K)) todo.push_back(pc + 1 + prog[pc].off);
    todo.push_back(pc + 1);
  }
  return std::find(seen.begin(), seen.end(), false) == seen.end();
}

DeviceRule rule(bool allow, char type, std::optional<int64_t> major, std::optional<int64_t> minor,
                std::string access) {
  return DeviceRule{allow, type, major, minor, std::move(access)};
}

TEST(CgroupV2Devices, DockersDefaultListDeniesHostDisksAndAllowsTheStandardNodes) {
  // What the core's spec carries for a default container: deny all, then Docker's allow list.
  std::vector<DeviceRule> rules = {
      rule(false, 'a', {}, {}, "rwm"),
      rule(true, 'c', 1, 3, "rwm"),     // /dev/null
      rule(true, 'c', 1, 5, "rwm"),     // /dev/zero
      rule(true, 'c', 136, {}, "rwm"),  // /dev/pts/*
      rule(true, 'c', {}, {}, "m"),     // mknod of any char device
      rule(true, 'b', {}, {}, "m"),     // mknod of any block device
  };
  auto p = device_filter_program(rules);
  EXPECT_EQ(run(p, 'c', 1, 3, 'r'), 1);
  EXPECT_EQ(run(p, 'c', 1, 5, 'w'), 1);
  EXPECT_EQ(run(p, 'c', 136, 7, 'w'), 1);
  EXPECT_EQ(run(p, 'b', 8, 0, 'm'), 1);  // mknod /dev/sda works ...
  EXPECT_EQ(run(p, 'b', 8, 0, 'r'), 0);  // ... reading it does not
  EXPECT_EQ(run(p, 'c', 1, 1, 'r'), 0);  // /dev/mem
  EXPECT_EQ(run(p, 'c', 10, 200, 'w'), 0);
}

TEST(CgroupV2Devices, LastMatchingRuleDecides) {
  std::vector<DeviceRule> rules = {rule(true, 'a', {}, {}, "rwm"), rule(false, 'c', 5, 1, "w")};
  auto p = device_filter_program(rules);
  EXPECT_EQ(run(p, 'c', 5, 1, 'r'), 1);
  EXPECT_EQ(run(p, 'c', 5, 1, 'w'), 0);
  EXPECT_EQ(run(p, 'b', 7, 0, 'w'), 1);  // privileged-like: everything else allowed
}

TEST(CgroupV2Devices, AnAllowAllRuleEndsTheProgram) {
  // --privileged: deny all, then allow all. Nothing after the allow-all is reachable.
  auto p = device_filter_program({rule(false, 'a', {}, {}, "rwm"), rule(true, 'a', {}, {}, "rwm")});
  EXPECT_TRUE(every_instruction_reachable(p));
  EXPECT_EQ(run(p, 'b', 8, 0, 'r'), 1);
  auto q = device_filter_program({rule(true, 'a', {}, {}, "rwm"), rule(false, 'c', 5, 1, "w")});
  EXPECT_TRUE(every_instruction_reachable(q));
  auto d = device_filter_program({rule(false, 'a', {}, {}, "rwm"), rule(true, 'c', 1, 3, "rwm")});
  EXPECT_TRUE(every_instruction_reachable(d));
}

TEST(CgroupV2Devices, NoRuleMeansDenied) {
  auto p = device_filter_program({});
  EXPECT_EQ(run(p, 'c', 1, 3, 'r'), 0);
  // Type 'p' (a fifo) and an empty access never match anything.
  auto q = device_filter_program({rule(true, 'p', {}, {}, "rwm"), rule(true, 'c', {}, {}, "")});
  EXPECT_EQ(run(q, 'c', 1, 3, 'r'), 0);
}

}  // namespace
}  // namespace berth::plugins::isolation::cgroup_v2
