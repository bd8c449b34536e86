// Mounts asked for at create: -v/Binds entries, HostConfig.Mounts objects and tmpfs options,
// checked the way dockerd checks them.
#include <sys/stat.h>

#include <boost/json.hpp>
#include <set>

#include "core/common/json_fields.hpp"
#include "core/container/create_config.hpp"
#include "core/container/create_config_detail.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace create_detail {

using json_fields::str;
using json_fields::num;
using json_fields::flag;

// tmpfs options Docker accepts (it passes them to mount(2)).
Status check_tmpfs_options(const std::string& options, const std::string& where) {
  static const std::set<std::string> kFlags = {"ro", "rw", "nosuid", "suid", "nodev", "dev",
                                               "noexec", "exec", "sync", "async", "dirsync",
                                               "noatime", "atime", "nodiratime", "diratime",
                                               "relatime", "norelatime", "strictatime",
                                               "nostrictatime", "tmpcopyup", "notmpcopyup",
                                               "private", "rprivate", "shared", "rshared",
                                               "slave", "rslave"};
  static const std::set<std::string> kKeys = {"size", "mode", "uid", "gid", "nr_inodes",
                                              "nr_blocks", "mpol"};
  size_t start = 0;
  while (start <= options.size()) {
    size_t comma = options.find(',', start);
    if (comma == std::string::npos) comma = options.size();
    std::string opt = options.substr(start, comma - start);
    start = comma + 1;
    if (opt.empty()) continue;
    auto eq = opt.find('=');
    std::string key = opt.substr(0, eq);
    if (eq == std::string::npos ? !kFlags.contains(key) : !kKeys.contains(key)) {
      return invalid("invalid tmpfs option \"" + opt + "\" for " + where);
    }
  }
  return {};
}

Result<MountPoint> parse_mount_object(const json::object& m) {
  MountPoint mp;
  mp.type = str(m, "Type");
  std::string target = str(m, "Target");
  std::string source = str(m, "Source");
  bool ro = flag(m, "ReadOnly");
  std::string where = "type \"" + mp.type + "\"";
  if (target.empty()) return invalid("invalid mount config for " + where + ": field Target must not be empty");
  if (!absolute(target)) {
    return invalid("invalid mount config for " + where + ": invalid mount path: '" + target +
                   "' mount path must be absolute");
  }
  mp.destination = clean_path(target);
  mp.rw = !ro;
  mp.mode = ro ? "ro" : "";
  if (mp.type == "bind") {
    if (source.empty()) return invalid("invalid mount config for " + where + ": field Source must not be empty");
    if (!absolute(source)) {
      return invalid("invalid mount config for " + where + ": invalid mount path: '" + source +
                     "' mount path must be absolute");
    }
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) {
      return invalid("invalid mount config for " + where + ": bind source path does not exist: " + source);
    }
    mp.source = source;
    if (const auto* b = m.if_contains("BindOptions"); b != nullptr && b->is_object()) {
      mp.propagation = str(b->get_object(), "Propagation");
    }
    if (mp.propagation.empty()) mp.propagation = "rprivate";  // what dockerd reports
  } else if (mp.type == "volume") {
    mp.name = source;
    mp.driver = "local";
    mp.anonymous = source.empty();
    if (const auto* v = m.if_contains("VolumeOptions"); v != nullptr && v->is_object()) {
      if (flag(v->get_object(), "NoCopy")) mp.copy_image_data = false;
      std::string driver = "local";
      if (const auto* dc = v->get_object().if_contains("DriverConfig"); dc != nullptr && dc->is_object()) {
        driver = str(dc->get_object(), "Name");
        if (driver.empty()) driver = "local";
      }
      if (driver != "local") return invalid("volume driver \"" + driver + "\" is not supported (only local)");
    }
  } else if (mp.type == "tmpfs") {
    if (!source.empty()) return invalid("invalid mount config for " + where + ": field Source must not be specified");
    std::vector<std::string> opts;
    if (const auto* t = m.if_contains("TmpfsOptions"); t != nullptr && t->is_object()) {
      const auto& to = t->get_object();
      if (auto size = num(to, "SizeBytes"); size > 0) opts.push_back("size=" + std::to_string(size));
      if (auto mode = num(to, "Mode"); mode > 0) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "mode=%o", static_cast<unsigned>(mode));
        opts.push_back(buf);
      }
    }
    for (size_t i = 0; i < opts.size(); ++i) mp.tmpfs_options += (i ? "," : "") + opts[i];
  } else {
    return invalid("mount type \"" + mp.type + "\" is not supported (use bind, volume or tmpfs)");
  }
  return mp;
}

}  // namespace create_detail

using create_detail::absolute;
using create_detail::clean_path;
using create_detail::invalid;

Result<MountPoint> parse_bind(const std::string& spec) {
  // name:/dst[:opts], /src:/dst[:opts], /dst (anonymous volume)
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t colon = spec.find(':', start);
    if (colon == std::string::npos) colon = spec.size();
    parts.push_back(spec.substr(start, colon - start));
    start = colon + 1;
  }
  auto bad = [&] { return invalid("invalid volume specification: '" + spec + "'"); };
  MountPoint mp;
  if (parts.size() == 1) {
    if (!absolute(parts[0])) {
      return invalid("invalid volume specification: '" + spec + "': invalid mount config for type \"volume\": invalid mount path: '" +
                     parts[0] + "' mount path must be absolute");
    }
    mp.type = "volume";
    mp.anonymous = true;
    mp.driver = "local";
    mp.destination = clean_path(parts[0]);
    return mp;
  }
  if (parts.size() > 3 || parts[0].empty() || parts[1].empty()) return bad();
  if (!absolute(parts[1])) {
    return invalid("invalid volume specification: '" + spec + "': invalid mount config for type \"" +
                   std::string(absolute(parts[0]) ? "bind" : "volume") + "\": invalid mount path: '" +
                   parts[1] + "' mount path must be absolute");
  }
  mp.destination = clean_path(parts[1]);
  if (parts.size() == 3) {
    mp.mode = parts[2];
    size_t pos = 0;
    while (pos <= parts[2].size()) {
      size_t comma = parts[2].find(',', pos);
      if (comma == std::string::npos) comma = parts[2].size();
      std::string opt = parts[2].substr(pos, comma - pos);
      pos = comma + 1;
      if (opt == "ro") mp.rw = false;
      else if (opt == "rw") mp.rw = true;
      else if (opt == "z" || opt == "Z" || opt == "consistent" || opt == "cached" || opt == "delegated") {
      } else if (opt == "nocopy") mp.copy_image_data = false;
      else if (opt == "private" || opt == "rprivate" || opt == "shared" || opt == "rshared" ||
               opt == "slave" || opt == "rslave") {
        mp.propagation = opt;
      } else {
        return bad();
      }
    }
  }
  if (absolute(parts[0])) {
    mp.type = "bind";
    mp.source = clean_path(parts[0]);
    if (mp.propagation.empty()) mp.propagation = "rprivate";
  } else {
    // A named volume: Docker's name rules.
    const std::string& name = parts[0];
    bool ok = name.size() >= 2 && std::isalnum(static_cast<unsigned char>(name[0]));
    for (char c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) ok = false;
    }
    if (!ok) {
      return invalid("create " + name + ": \"" + name +
                     "\" includes invalid characters for a local volume name, only "
                     "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                     "directory, use absolute path");
    }
    mp.type = "volume";
    mp.name = name;
    mp.driver = "local";
  }
  return mp;
}

}  // namespace berth::core::container
