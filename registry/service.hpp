// A running berth-registry: storage, the distribution API, /metrics, the admin endpoint
// (POST /admin/gc from loopback), the access log, background upkeep (abandoned uploads, the GC
// schedule) and a clean stop on SIGTERM/SIGINT that answers the requests in flight first.
#pragma once

#include "core/common/result.hpp"
#include "registry/config.hpp"

namespace berth::registry {

// Serves until SIGTERM/SIGINT; returns the process exit code.
int run_registry(const RegistryConfig& config);

// `berth-registry gc`: one collection over `config.root`, report printed as JSON on stdout.
int run_gc_command(const RegistryConfig& config, bool dry_run);

}  // namespace berth::registry
