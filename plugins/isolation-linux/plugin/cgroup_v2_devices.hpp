// linux.resources.devices on cgroup v2: v2 has no devices.allow/deny files; the kernel asks an
// eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup instead. This compiles
// the v1-shaped rule list into such a program (runc's devicefilter semantics: the last matching
// rule decides, nothing matching is denied) and attaches it. The compiler is pure and
// unit-tested by running its output through a small interpreter; loading needs root.
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "berth/sdk/result.hpp"
#include "common/oci_spec.hpp"

namespace berth::plugins::isolation::cgroup_v2 {

std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& rules);

// Loads the program for `rules` and attaches it to the cgroup `dir`, replacing the programs an
// earlier call attached there (one filter per container cgroup).
sdk::Status apply_device_filter(const std::string& dir, const std::vector<DeviceRule>& rules);

}  // namespace berth::plugins::isolation::cgroup_v2
