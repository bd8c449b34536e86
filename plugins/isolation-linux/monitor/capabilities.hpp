// Process capabilities: the bounding set, the switch to the container's user with the listed
// capabilities kept, and the final effective/permitted/inheritable/ambient sets. Raw capget /
// capset and prctl, no libcap: the table of names lives in common/oci_spec.
#pragma once

#include "berth/sdk/result.hpp"
#include "common/oci_spec.hpp"

namespace berth::plugins::isolation {

// The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();

// Drops every capability not in `keep` from the bounding set (needs CAP_SETPCAP, so this runs
// before the user switch and before capset).
sdk::Status drop_bounding_set(const std::vector<int>& keep);

// setgroups, setresgid, setresuid with PR_SET_KEEPCAPS, so the permitted set survives a switch
// to a non-root user; apply_capabilities then sets the final sets.
sdk::Status switch_user(uint32_t uid, uint32_t gid, const std::vector<uint32_t>& groups);

// Sets effective, permitted and inheritable, then raises the ambient set. Capabilities this
// process does not hold (CAP_SYS_RESOURCE on a host that lacks it) are left out rather than
// failing the container.
sdk::Status apply_capabilities(const CapSets& caps);

}  // namespace berth::plugins::isolation
