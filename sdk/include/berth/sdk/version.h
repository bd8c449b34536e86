/* Berth SDK versions. Plain C so that abi.h can include it.
 *
 * BERTH_SDK_ABI_MAJOR / MINOR version the binary contract in abi.h:
 *  - a minor bump only appends fields or function pointers at the end of a size-prefixed struct,
 *    or adds new error codes / event types; a plugin built against an older minor keeps working;
 *  - anything else (reordering, removing, changing a signature or a meaning) bumps the major.
 * tests/unit/sdk/abi_pin_test.cpp pins a hash of abi.h so no edit lands without a bump.
 *
 * History: 1.0 first contract. 2.0: task exits through host->task_exit (typed sdk::TaskExit) instead
 * of a generic emit(type, json); stats as typed cgroup metrics (sdk::CgroupStats) that the host
 * maps to Docker's shape; the OCI spec as create's own argument instead of nested in the spec.
 * 2.1: registry transports may answer search (docker search) at the end of their table.
 *
 * BERTH_SDK_VERSION is the release of the SDK package (headers, helpers, conformance suites). */
#ifndef BERTH_SDK_VERSION_H
#define BERTH_SDK_VERSION_H

#define BERTH_SDK_ABI_MAJOR 2
#define BERTH_SDK_ABI_MINOR 1

#define BERTH_SDK_VERSION "0.3.0"

/* The exported entry alias carries the ABI major in its name, so a plugin built for another major
 * is recognised (and refused) by reading its symbol table, before any of its code runs. */
#define BERTH_SDK_STRINGIFY_(x) #x
#define BERTH_SDK_STRINGIFY(x) BERTH_SDK_STRINGIFY_(x)
#define BERTH_SDK_ENTRY_PREFIX "berth_plugin_abi_v"
#define BERTH_SDK_ENTRY_NAME BERTH_SDK_ENTRY_PREFIX BERTH_SDK_STRINGIFY(BERTH_SDK_ABI_MAJOR)

#endif
