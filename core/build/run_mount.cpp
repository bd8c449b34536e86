// RUN --mount options (see run_mount.hpp).
#include "core/build/run_mount.hpp"

namespace berth::core::build {

Result<RunMount> parse_run_mount(const std::string& spec, int line) {
  RunMount m;
  auto bad = [&](const std::string& what) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Dockerfile line " + std::to_string(line) + ": RUN --mount=" + spec + ": " + what);
  };
  size_t i = 0;
  while (i <= spec.size()) {
    size_t j = spec.find(',', i);
    if (j == std::string::npos) j = spec.size();
    std::string field = spec.substr(i, j - i);
    i = j + 1;
    if (field.empty()) continue;
    size_t eq = field.find('=');
    std::string key = field.substr(0, eq), value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (key == "type") m.type = value;
    else if (key == "target" || key == "dst" || key == "destination") m.target = value;
    else if (key == "source" || key == "src") m.source = value;
    else if (key == "id") m.id = value;
    else if (key == "readonly" || key == "ro") m.readonly = value.empty() || value == "true", m.readonly_set = true;
    else if (key == "rw" || key == "readwrite") m.readonly = !(value.empty() || value == "true"), m.readonly_set = true;
    else if (key == "from") m.from = value;
    else if (key == "sharing" || key == "mode" || key == "uid" || key == "gid" || key == "size" || key == "required") continue;
    else if (m.type == "secret" || m.type == "ssh") continue;  // refused below, whatever its keys
    else return bad("unknown key \"" + key + "\"");
  }
  if (m.type == "secret" || m.type == "ssh") {
    // The legacy builder API (POST /build) has no way to pass secrets or an SSH agent.
    return bad("type=" + m.type + " is not supported by this berthd: the /build API it serves cannot carry " +
               (m.type == "secret" ? std::string("secrets") : std::string("an SSH agent")) +
               " (use a bind mount from the context, or a build arg for what is not secret)");
  }
  if (m.type != "cache" && m.type != "bind" && m.type != "tmpfs") {
    return bad("type " + m.type + " is not supported (expected cache, bind or tmpfs)");
  }
  if (!m.from.empty() && m.type != "bind") return bad("from= is only for type=bind here");
  if (m.target.empty() || m.target.front() != '/') return bad("needs an absolute target= path");
  if (m.type == "cache" && !m.readonly_set) m.readonly = false;
  return m;
}


}  // namespace berth::core::build
