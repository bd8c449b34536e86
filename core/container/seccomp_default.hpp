// Docker's default seccomp profile as policy: the OCI linux.seccomp object a container gets when
// it asks for nothing else (moby profiles/seccomp/default.json, rebuilt here from its rules).
//
// Default action SCMP_ACT_ERRNO (EPERM); an allow list of ordinary syscalls; extra syscalls for
// the capabilities the container keeps (CAP_SYS_ADMIN: mount, umount2, unshare, setns, clone
// with namespace flags, ...; CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_BOOT, CAP_SYS_TIME, ...);
// clone restricted to no CLONE_NEW* flag and clone3 answering ENOSYS without CAP_SYS_ADMIN;
// personality restricted to the harmless personas; the host architecture and its compat ones.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

namespace berth::core::container {

// `capabilities`: the container's effective capabilities, "CAP_SYS_ADMIN" style.
boost::json::object default_seccomp_profile(const std::vector<std::string>& capabilities);

}  // namespace berth::core::container
