// The driver's section of daemon.json ("plugins": {"storage.btrfs": {...}}):
//
//   {"usage-source": "auto"}
//
// usage-source: where usage() gets a snapshot's size.
//   "auto"      (default) qgroups when quotas are enabled and consistent on the filesystem, else
//               measured;
//   "qgroups"   always qgroups: create() refuses a filesystem without quotas (btrfs quota enable);
//   "measured"  never qgroups, even where quotas are on (their "exclusive" figure drops a layer's
//               bytes once a child snapshot shares them; measured sizes do not).
// Unknown keys and wrong types are errors naming the key, like the rest of daemon.json.
#pragma once

#include <string_view>

#include "berth/sdk/result.hpp"

namespace berth::plugins::btrfs {

enum class UsageSource { kAuto, kQgroups, kMeasured };

struct Config {
  UsageSource usage_source = UsageSource::kAuto;
};

std::string_view usage_source_name(UsageSource source);

// Empty text and null are the empty object. Errors are kInvalidArgument naming the key.
sdk::Result<Config> parse_config(std::string_view json);

}  // namespace berth::plugins::btrfs
