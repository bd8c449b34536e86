// One reader of a container's /etc/passwd and /etc/group text, for both sides of the SDK: the
// core resolves `exec --user` with it, the isolation backend's monitor `run --user`. Pure: the
// caller reads the files (inside the container's root), this parses the text. Part of
// berth::sdk_util.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::sdk::userdb {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;  // "" when the line has no home field
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

// Lines "name:password:uid:gid:gecos:home:shell". Blank lines and "#" comments are skipped, so
// is a line with fewer than four fields or a uid/gid that is not a 32-bit number (as
// moby/sys/user, which tolerates short lines, and never a reason to fail a start).
std::vector<PasswdEntry> parse_passwd(std::string_view text);

// Lines "name:password:gid:member,member". Skipped as above: fewer than three fields, or a gid
// that is not a 32-bit number.
std::vector<GroupEntry> parse_group(std::string_view text);

// A decimal id that fits 32 bits ("1000"); false for anything else ("", "-1", "1e3", "4294967296").
bool parse_id(std::string_view text, uint32_t& out);

}  // namespace berth::sdk::userdb
