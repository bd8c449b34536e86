// JSON encoding of the SDK's C++ types, the shapes documented in abi.h. Used by the plugin-side
// thunks and by the host-side proxies, so both ends agree by construction. Implemented in
// sdk/src/codec.cpp (Boost.JSON, compiled privately into each side).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/isolation_backend.hpp"
#include "berth/sdk/network_driver.hpp"
#include "berth/sdk/registry_transport.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::sdk::codec {

// Defined for: Labels, DriverInfo, Mount vectors, SnapshotInfo (and vectors), Usage, WalkFilter,
// NetworkSpec, EndpointSpec, EndpointResult, JoinSpec, JoinResult, PortMapping vectors, RepoRef,
// Descriptor, Credentials, LoginResult, SearchQuery, SearchResult vectors, string vectors, CreateSpec, ExecSpec, AttachOptions,
// TaskState (and vectors), int vectors, Pid; TaskExit and CgroupStats (codec_task.cpp).
template <class T>
std::string to_json(const T& value);

// Bad JSON or a wrong shape gives kInvalidArgument naming what was expected.
template <class T>
Result<T> from_json(std::string_view json);

template <>
std::string to_json<TaskExit>(const TaskExit& value);
template <>
Result<TaskExit> from_json<TaskExit>(std::string_view json);
template <>
std::string to_json<CgroupStats>(const CgroupStats& value);
template <>
Result<CgroupStats> from_json<CgroupStats>(std::string_view json);

// {"pid": N}: the answer of create and exec.
struct Pid {
  int pid = 0;
};

}  // namespace berth::sdk::codec
