#include "berth/sdk/mount_options.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <array>

namespace berth::sdk {
namespace {

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

struct FlagWord {
  std::string_view word;
  bool clear;  // "rw", "suid", ...: clears the flag instead of setting it
  unsigned long flag;
};

// mount(8)'s flag words (util-linux libmount's optmap, the same as moby/sys/mount's table plus
// "nosymfollow", Linux >= 5.10).
constexpr std::array<FlagWord, 27> kFlagWords = {{
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"sync", false, MS_SYNCHRONOUS},
}};

constexpr std::array<FlagWord, 8> kPropagationWords = {{
    {"private", false, MS_PRIVATE},
    {"rprivate", false, MS_PRIVATE | MS_REC},
    {"rshared", false, MS_SHARED | MS_REC},
    {"rslave", false, MS_SLAVE | MS_REC},
    {"runbindable", false, MS_UNBINDABLE | MS_REC},
    {"shared", false, MS_SHARED},
    {"slave", false, MS_SLAVE},
    {"unbindable", false, MS_UNBINDABLE},
}};

void apply(MountOptions& out, std::string_view word) {
  if (word.empty()) return;
  auto flag = std::find_if(kFlagWords.begin(), kFlagWords.end(),
                           [&](const FlagWord& f) { return f.word == word; });
  if (flag != kFlagWords.end()) {
    if (flag->clear) {
      out.flags &= ~flag->flag;
    } else {
      out.flags |= flag->flag;
    }
    return;
  }
  auto prop = std::find_if(kPropagationWords.begin(), kPropagationWords.end(),
                           [&](const FlagWord& f) { return f.word == word; });
  if (prop != kPropagationWords.end()) {
    out.propagation = prop->flag;  // one propagation type: the last word wins
    return;
  }
  out.data.emplace_back(word);
}

}  // namespace

bool MountOptions::bind() const { return (flags & MS_BIND) != 0; }
bool MountOptions::recursive_bind() const { return (flags & (MS_BIND | MS_REC)) == (MS_BIND | MS_REC); }

std::string MountOptions::data_string() const {
  std::string out;
  for (const auto& d : data) {
    if (!out.empty()) out.push_back(',');
    out += d;
  }
  return out;
}

MountOptions parse_mount_options(const std::vector<std::string>& words) {
  MountOptions out;
  for (const auto& w : words) apply(out, w);
  return out;
}

MountOptions parse_mount_options(std::string_view comma_separated) {
  MountOptions out;
  size_t pos = 0;
  while (pos <= comma_separated.size()) {
    size_t comma = comma_separated.find(',', pos);
    if (comma == std::string_view::npos) comma = comma_separated.size();
    apply(out, comma_separated.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

}  // namespace berth::sdk
