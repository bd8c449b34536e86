// The config instructions (see builder.hpp): ENV, LABEL, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE,
// VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, MAINTAINER. Each makes an image with the same
// layers and a changed config.
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

#include "core/build/build_run.hpp"
#include "core/common/json_text.hpp"
#include "core/container/create_config.hpp"
#include "core/image/image_config.hpp"

namespace berth::core::build {

namespace json = boost::json;

namespace {

json::array string_array(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

// CMD/ENTRYPOINT/SHELL-style arguments: JSON form as is, shell form through the SHELL.
json::array command_of(const Instruction& inst, const json::object& config) {
  if (inst.json) return string_array(inst.args);
  json::array argv;
  if (const auto* sh = config.if_contains("Shell"); sh != nullptr && sh->is_array() && !sh->get_array().empty()) {
    argv = sh->get_array();
  } else {
    argv = {"/bin/sh", "-c"};
  }
  argv.emplace_back(inst.rest);
  return argv;
}

}  // namespace

// ENV, LABEL, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL,
// ONBUILD, MAINTAINER: the config changes, the layers stay.
Status Builder::Run::config_step(StageState& st, const Instruction& inst) {
  const std::string& kw = inst.keyword;
  Vars v = vars(st);
  char esc = dockerfile.escape;
  auto& c = config(st);
  std::string text;  // what goes into history after "#(nop) "
  auto no_args = [&] { return inst.rest.empty(); };
  if (kw == "ENV" || kw == "LABEL") {
    auto kv = parse_key_values(inst.rest, v, esc, true, kw);
    if (!kv) return std::move(kv).error().wrap("Dockerfile line " + std::to_string(inst.line));
    if (kw == "ENV") {
      json::array env;
      if (const auto* e = c.if_contains("Env"); e != nullptr && e->is_array()) env = e->get_array();
      text = "ENV";
      for (const auto& [k, val] : *kv) {
        std::string entry = k + "=" + val;
        bool replaced = false;
        for (auto& x : env) {
          if (x.is_string() && std::string(x.get_string()).rfind(k + "=", 0) == 0) {
            x = entry;
            replaced = true;
          }
        }
        if (!replaced) env.emplace_back(entry);
        text += " " + entry;
      }
      c["Env"] = env;
    } else {
      auto& labels = c["Labels"];
      if (!labels.is_object()) labels = json::object{};
      text = "LABEL";
      for (const auto& [k, val] : *kv) {
        labels.get_object()[k] = val;
        text += " " + k + "=" + val;
      }
    }
  } else if (kw == "MAINTAINER") {
    if (no_args()) return step_error(inst, "requires exactly one argument");
    st.image["author"] = inst.rest;
    text = "MAINTAINER " + inst.rest;
  } else if (kw == "WORKDIR") {
    auto dir = expand_word(inst.rest, v, esc);
    if (!dir) return dir.error();
    if (dir->empty()) return step_error(inst, "requires exactly one argument");
    std::string wd = *dir;
    if (wd.front() != '/') {
      std::string prev = c.contains("WorkingDir") && c["WorkingDir"].is_string() ? std::string(c["WorkingDir"].get_string()) : "/";
      wd = (prev.empty() ? "/" : prev) + (prev.empty() || prev.back() != '/' ? "/" : "") + wd;
    }
    c["WorkingDir"] = wd;
    text = "WORKDIR " + wd;
  } else if (kw == "USER") {
    auto user = expand_word(inst.rest, v, esc);
    if (!user) return user.error();
    if (user->empty()) return step_error(inst, "requires exactly one argument");
    c["User"] = *user;
    text = "USER " + *user;
  } else if (kw == "CMD" || kw == "ENTRYPOINT") {
    json::array argv = command_of(inst, c);
    if (kw == "CMD") {
      c["Cmd"] = argv;
      st.cmd_set = true;
    } else {
      c["Entrypoint"] = argv;
      // An ENTRYPOINT resets a CMD inherited from the base image, as Docker does.
      if (!st.cmd_set) c["Cmd"] = nullptr;
    }
    text = kw + " " + json_text::serialize(argv);
  } else if (kw == "SHELL") {
    if (!inst.json || inst.args.empty()) return step_error(inst, "requires the arguments to be in JSON form: SHELL [\"executable\", \"parameters\"]");
    c["Shell"] = string_array(inst.args);
    text = "SHELL " + json_text::serialize(c["Shell"]);
  } else if (kw == "EXPOSE") {
    auto ports = expand_words(inst.rest, v, esc);
    if (!ports) return ports.error();
    if (ports->empty()) return step_error(inst, "requires at least one argument");
    auto& exposed = c["ExposedPorts"];
    if (!exposed.is_object()) exposed = json::object{};
    text = "EXPOSE";
    for (auto p : *ports) {
      if (p.find('/') == std::string::npos) p += "/tcp";
      std::string num = p.substr(0, p.find('/'));
      if (num.empty() || !std::all_of(num.begin(), num.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) || ch == '-'; })) {
        return step_error(inst, "has an invalid port \"" + p + "\" (expected <port>[/<tcp|udp|sctp>])");
      }
      exposed.get_object()[p] = json::object{};
      text += " " + p;
    }
  } else if (kw == "VOLUME") {
    std::vector<std::string> vols;
    if (inst.json) {
      for (const auto& a : inst.args) {
        auto e = expand_word(a, v, esc);
        if (!e) return e.error();
        vols.push_back(*e);
      }
    } else {
      auto e = expand_words(inst.rest, v, esc);
      if (!e) return e.error();
      vols = *e;
    }
    if (vols.empty()) return step_error(inst, "requires at least one argument");
    auto& volumes = c["Volumes"];
    if (!volumes.is_object()) volumes = json::object{};
    text = "VOLUME " + json_text::serialize(string_array(vols));
    for (const auto& vol : vols) {
      if (vol.empty()) return step_error(inst, "specified can not be an empty string");
      volumes.get_object()[vol] = json::object{};
    }
  } else if (kw == "STOPSIGNAL") {
    auto sig = expand_word(inst.rest, v, esc);
    if (!sig) return sig.error();
    if (container::parse_signal(*sig) == 0) return step_error(inst, "has an invalid signal \"" + *sig + "\"");
    c["StopSignal"] = *sig;
    text = "STOPSIGNAL " + *sig;
  } else if (kw == "HEALTHCHECK") {
    auto words = split_words(inst.rest, esc);
    if (words.empty()) return step_error(inst, "requires an argument: HEALTHCHECK [options] CMD <command> | NONE");
    std::string type = words[0];
    for (auto& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    json::object hc;
    if (type == "NONE") {
      hc["Test"] = json::array{"NONE"};
    } else if (type == "CMD") {
      std::string cmd = inst.rest.substr(inst.rest.find_first_not_of(" \t") + 3);
      std::vector<std::string> args;
      if (parse_json_array(cmd, args)) {
        json::array test{"CMD"};
        for (const auto& a : args) test.emplace_back(a);
        hc["Test"] = test;
      } else {
        size_t s = cmd.find_first_not_of(" \t");
        hc["Test"] = json::array{"CMD-SHELL", s == std::string::npos ? std::string() : cmd.substr(s)};
      }
      auto duration = [&](std::string_view name) -> Result<int64_t> {
        bool present = false;
        std::string val = flag_value(inst, name, &present);
        if (!present) return int64_t{0};
        // Go durations: a number and a unit (ns, us, ms, s, m, h), possibly several.
        int64_t total_ns = 0;
        size_t i = 0;
        while (i < val.size()) {
          size_t j = i;
          while (j < val.size() && (std::isdigit(static_cast<unsigned char>(val[j])) || val[j] == '.')) ++j;
          size_t u = j;
          while (u < val.size() && std::isalpha(static_cast<unsigned char>(val[u]))) ++u;
          if (j == i || u == j) return step_error(inst, "has an invalid --" + std::string(name) + " duration \"" + val + "\"");
          double n = std::stod(val.substr(i, j - i));
          std::string unit = val.substr(j, u - j);
          double mult = unit == "ns" ? 1 : unit == "us" ? 1e3 : unit == "ms" ? 1e6 : unit == "s" ? 1e9 : unit == "m" ? 6e10 : unit == "h" ? 3.6e12 : -1;
          if (mult < 0) return step_error(inst, "has an invalid --" + std::string(name) + " duration \"" + val + "\"");
          total_ns += static_cast<int64_t>(n * mult);
          i = u;
        }
        return total_ns;
      };
      for (auto [flag, key] : {std::pair{"interval", "Interval"}, {"timeout", "Timeout"},
                               {"start-period", "StartPeriod"}, {"start-interval", "StartInterval"}}) {
        auto d = duration(flag);
        if (!d) return d.error();
        if (*d != 0) hc[key] = *d;
      }
      bool present = false;
      std::string retries = flag_value(inst, "retries", &present);
      if (present) {
        try {
          hc["Retries"] = std::stoi(retries);
        } catch (...) {
          return step_error(inst, "has an invalid --retries value \"" + retries + "\"");
        }
      }
    } else {
      return step_error(inst, "must be followed by CMD or NONE, not \"" + words[0] + "\"");
    }
    c["Healthcheck"] = hc;
    text = "HEALTHCHECK " + json_text::serialize(hc);
  } else if (kw == "ONBUILD") {
    auto trig = parse_dockerfile(inst.rest + "\n", "ONBUILD");
    if (!trig) return trig.error();
    const std::string& tkw = trig->instructions.front().keyword;
    if (tkw == "ONBUILD" || tkw == "FROM" || tkw == "MAINTAINER") {
      return step_error(inst, tkw + " isn't allowed as an ONBUILD trigger");
    }
    auto& ob = c["OnBuild"];
    if (!ob.is_array()) ob = json::array{};
    ob.get_array().emplace_back(inst.rest);
    text = "ONBUILD " + inst.rest;
  } else {
    return step_error(inst, "is not supported");
  }
  return commit_config(st, text, {"config", st.image_id, text, image::encode_config(c)});
}

}  // namespace berth::core::build
