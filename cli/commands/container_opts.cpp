#include "cli/commands/container_opts.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>

#include "cli/app/errors.hpp"
#include "cli/format/human.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

void add_container_flags(FlagSet& f, ContainerOptions& o) {
  f.add_list("add-host", 0, &o.add_host, "Add a custom host-to-IP mapping (host:ip)");
  f.add_list("attach", 'a', &o.attach, "Attach to STDIN, STDOUT or STDERR");
  f.add_int("blkio-weight", 0, &o.blkio_weight,
            "Block IO (relative weight), between 10 and 1000, or 0 to disable", "uint16");
  f.add_list("cap-add", 0, &o.cap_add, "Add Linux capabilities");
  f.add_list("cap-drop", 0, &o.cap_drop, "Drop Linux capabilities");
  f.add_string("cgroup-parent", 0, &o.cgroup_parent, "Optional parent cgroup for the container");
  f.add_string("cgroupns", 0, &o.cgroupns, "Cgroup namespace to use (host|private)");
  f.add_string("cidfile", 0, &o.cidfile, "Write the container ID to the file");
  f.add_int("cpu-period", 0, &o.cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period");
  f.add_int("cpu-quota", 0, &o.cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota");
  f.add_int("cpu-shares", 'c', &o.cpu_shares, "CPU shares (relative weight)");
  f.add_double("cpus", 0, &o.cpus, "Number of CPUs");
  f.add_string("cpuset-cpus", 0, &o.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
  f.add_string("cpuset-mems", 0, &o.cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)");
  f.add_list("device", 0, &o.devices, "Add a host device to the container");
  f.add_list("dns", 0, &o.dns, "Set custom DNS servers");
  f.add_list("dns-option", 0, &o.dns_option, "Set DNS options");
  f.add_list("dns-search", 0, &o.dns_search, "Set custom DNS search domains");
  f.add_string("domainname", 0, &o.domainname, "Container NIS domain name");
  f.add_string("entrypoint", 0, &o.entrypoint, "Overwrite the default ENTRYPOINT of the image");
  f.add_list("env", 'e', &o.env, "Set environment variables");
  f.add_list("env-file", 0, &o.env_file, "Read in a file of environment variables");
  f.add_list("expose", 0, &o.expose, "Expose a port or a range of ports");
  f.add_list("group-add", 0, &o.group_add, "Add additional groups to join");
  f.add_string("health-cmd", 0, &o.health_cmd, "Command to run to check health");
  f.add_string("health-interval", 0, &o.health_interval,
               "Time between running the check (ms|s|m|h) (default 0s)", "duration");
  f.add_int("health-retries", 0, &o.health_retries,
            "Consecutive failures needed to report unhealthy");
  f.add_string("health-start-period", 0, &o.health_start_period,
               "Start period for the container to initialize before starting health-retries "
               "countdown (ms|s|m|h) (default 0s)",
               "duration");
  f.add_string("health-start-interval", 0, &o.health_start_interval,
               "Time between running the check during the start period (ms|s|m|h) (default 0s)",
               "duration");
  f.add_string("health-timeout", 0, &o.health_timeout,
               "Maximum time to allow one check to run (ms|s|m|h) (default 0s)", "duration");
  f.add_string("hostname", 'h', &o.hostname, "Container host name");
  f.add_bool("init", 0, &o.init,
             "Run an init inside the container that forwards signals and reaps processes");
  f.add_bool("interactive", 'i', &o.interactive, "Keep STDIN open even if not attached");
  f.add_string("ip", 0, &o.ip, "IPv4 address (e.g., 172.30.100.104)");
  f.add_string("ip6", 0, &o.ip6, "IPv6 address (e.g., 2001:db8::33)");
  f.add_string("ipc", 0, &o.ipc, "IPC mode to use");
  f.add_string("isolation", 0, &o.isolation, "Container isolation technology");
  f.add_list("label", 'l', &o.labels, "Set meta data on a container");
  f.add_list("label-file", 0, &o.label_file, "Read in a line delimited file of labels");
  f.add_list("link", 0, &o.links, "Add link to another container");
  f.add_string("log-driver", 0, &o.log_driver, "Logging driver for the container");
  f.add_list("log-opt", 0, &o.log_opt, "Log driver options");
  f.add_string("mac-address", 0, &o.mac_address, "Container MAC address (e.g., 92:d0:c6:0a:29:33)");
  f.add_string("memory", 'm', &o.memory, "Memory limit", "bytes");
  f.add_string("memory-reservation", 0, &o.memory_reservation, "Memory soft limit", "bytes");
  f.add_string("memory-swap", 0, &o.memory_swap,
               "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", "bytes");
  f.add_int("memory-swappiness", 0, &o.memory_swappiness,
            "Tune container memory swappiness (0 to 100)");
  f.add_list("mount", 0, &o.mounts, "Attach a filesystem mount to the container", "mount");
  f.add_string("name", 0, &o.name, "Assign a name to the container");
  f.add_string("network", 0, &o.network, "Connect a container to a network", "network");
  f.add_list("network-alias", 0, &o.network_alias, "Add network-scoped alias for the container");
  f.add_bool("no-healthcheck", 0, &o.no_healthcheck,
             "Disable any container-specified HEALTHCHECK");
  f.add_bool("oom-kill-disable", 0, &o.oom_kill_disable, "Disable OOM Killer");
  f.add_int("oom-score-adj", 0, &o.oom_score_adj,
            "Tune host's OOM preferences (-1000 to 1000)");
  f.add_string("pid", 0, &o.pid, "PID namespace to use");
  f.add_int("pids-limit", 0, &o.pids_limit, "Tune container pids limit (set -1 for unlimited)");
  f.add_string("platform", 0, &o.platform, "Set platform if server is multi-platform capable");
  f.add_bool("privileged", 0, &o.privileged, "Give extended privileges to this container");
  f.add_list("publish", 'p', &o.publish, "Publish a container's port(s) to the host");
  f.add_bool("publish-all", 'P', &o.publish_all, "Publish all exposed ports to random ports");
  f.add_string("pull", 0, &o.pull,
               "Pull image before running (\"always\", \"missing\", \"never\")");
  f.add_bool("read-only", 0, &o.read_only, "Mount the container's root filesystem as read only");
  f.add_string("restart", 0, &o.restart, "Restart policy to apply when a container exits");
  f.add_bool("rm", 0, &o.auto_remove,
             "Automatically remove the container and its associated anonymous volumes when it "
             "exits");
  f.add_string("runtime", 0, &o.runtime, "Runtime to use for this container");
  f.add_list("security-opt", 0, &o.security_opt, "Security Options");
  f.add_string("shm-size", 0, &o.shm_size, "Size of /dev/shm", "bytes");
  f.add_string("stop-signal", 0, &o.stop_signal, "Signal to stop the container");
  f.add_int("stop-timeout", 0, &o.stop_timeout, "Timeout (in seconds) to stop a container")
      .on_set = [&o](const std::string&) { o.stop_timeout_set = true; };
  f.add_list("storage-opt", 0, &o.storage_opt, "Storage driver options for the container");
  f.add_list("sysctl", 0, &o.sysctls, "Sysctl options", "map");
  f.add_list("tmpfs", 0, &o.tmpfs, "Mount a tmpfs directory");
  f.add_bool("tty", 't', &o.tty, "Allocate a pseudo-TTY");
  f.add_list("ulimit", 0, &o.ulimits, "Ulimit options", "ulimit");
  f.add_string("user", 'u', &o.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  f.add_string("userns", 0, &o.userns, "User namespace to use");
  f.add_string("uts", 0, &o.uts, "UTS namespace to use");
  f.add_list("volume", 'v', &o.volumes, "Bind mount a volume");
  f.add_string("volume-driver", 0, &o.volume_driver, "Optional volume driver for the container");
  f.add_list("volumes-from", 0, &o.volumes_from, "Mount volumes from the specified container(s)");
  f.add_string("workdir", 'w', &o.workdir, "Working directory inside the container");
}

namespace {

[[noreturn]] void invalid(const std::string& msg) { throw StatusError(msg, 125); }

json::value str_array_or_null(const std::vector<std::string>& v) {
  if (v.empty()) return nullptr;
  json::array a;
  for (auto& s : v) a.emplace_back(json::string(s));
  return a;
}

json::array str_array(const std::vector<std::string>& v) {
  json::array a;
  for (auto& s : v) a.emplace_back(json::string(s));
  return a;
}

std::vector<std::string> read_kv_file(const std::string& path, bool env) {
  std::ifstream in(path);
  if (!in) invalid("open " + path + ": no such file or directory");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = env ? std::string(line) : trim(line);
    // Leading whitespace is trimmed like docker; comments and blank lines are skipped.
    std::string lead = trim(line);
    if (lead.empty() || lead[0] == '#') continue;
    if (env) {
      size_t b = line.find_first_not_of(" \t");
      t = line.substr(b);
      if (t.find('=') == std::string::npos) {
        const char* v = std::getenv(trim(t).c_str());
        if (v) t = trim(t) + "=" + v;
        else t = trim(t);
      }
    }
    out.push_back(t);
  }
  return out;
}

std::string env_value(const std::string& e) {
  if (e.find('=') != std::string::npos) return e;
  const char* v = std::getenv(e.c_str());
  return v ? e + "=" + v : e;
}

int64_t parse_bytes(const std::string& flag, const std::string& v) {
  int64_t n = ram_in_bytes(v);
  if (n < 0)
    invalid("invalid argument \"" + v + "\" for \"" + flag + "\" flag: invalid size: '" + v +
            "'");
  return n;
}

// "80", "80/udp", "8000-8002/tcp" -> list of "port/proto"
std::vector<std::string> expand_ports(const std::string& spec) {
  bool has_proto = false;
  auto [ports, proto] = split_once(spec, '/', &has_proto);
  if (!has_proto || proto.empty()) proto = "tcp";
  bool range = false;
  auto [lo, hi] = split_once(ports, '-', &range);
  char* end = nullptr;
  long a = std::strtol(lo.c_str(), &end, 10);
  if (lo.empty() || *end) invalid("invalid containerPort: " + ports);
  long b = a;
  if (range) {
    b = std::strtol(hi.c_str(), &end, 10);
    if (hi.empty() || *end || b < a) invalid("invalid range specified for container port: " + ports);
  }
  std::vector<std::string> out;
  for (long p = a; p <= b; ++p) out.push_back(std::to_string(p) + "/" + to_lower(proto));
  return out;
}

}  // namespace

void parse_publish(const std::string& spec, json::object& exposed, json::object& bindings) {
  // [ip:][hostPort:]containerPort[/proto]; ip may be [v6].
  std::string rest = spec, ip, host_port, container;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) invalid("invalid IP address: " + spec);
    ip = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest[0] == ':') rest = rest.substr(1);
  }
  auto parts = split(rest, ":");
  if (!ip.empty()) {
    if (parts.size() == 1) container = parts[0];
    else if (parts.size() == 2) host_port = parts[0], container = parts[1];
    else invalid("invalid port format: " + spec);
  } else if (parts.size() == 1) {
    container = parts[0];
  } else if (parts.size() == 2) {
    host_port = parts[0];
    container = parts[1];
  } else if (parts.size() == 3) {
    ip = parts[0];
    host_port = parts[1];
    container = parts[2];
  } else {
    // Unbracketed IPv6: everything before the last two colons is the address.
    auto last = rest.rfind(':');
    auto prev = rest.rfind(':', last - 1);
    ip = rest.substr(0, prev);
    host_port = rest.substr(prev + 1, last - prev - 1);
    container = rest.substr(last + 1);
  }
  if (container.empty()) invalid("no port specified: " + spec + "<empty>");
  auto ports = expand_ports(container);
  // A host range maps one-to-one onto a container range; a single host port maps to all.
  std::vector<std::string> hosts;
  if (!host_port.empty() && host_port.find('-') != std::string::npos && ports.size() > 1) {
    bool r = false;
    auto [lo, hi] = split_once(host_port, '-', &r);
    long a = std::atol(lo.c_str()), b = std::atol(hi.c_str());
    if (b - a + 1 != static_cast<long>(ports.size()))
      invalid("invalid ranges specified for container and host Ports: " + container + " and " +
              host_port);
    for (long p = a; p <= b; ++p) hosts.push_back(std::to_string(p));
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    exposed[ports[i]] = json::object();
    json::object b{{"HostIp", ip}, {"HostPort", hosts.empty() ? host_port : hosts[i]}};
    auto& slot = bindings[ports[i]];
    if (!slot.is_array()) slot = json::array();
    slot.as_array().push_back(b);
  }
}

json::object parse_mount(const std::string& spec) {
  json::object m;
  std::string type = "volume", source, target;
  bool read_only = false;
  json::object bind_opts, volume_opts, tmpfs_opts;
  json::object volume_labels;
  for (auto& field : split(spec, ",")) {
    bool has = false;
    auto [k, v] = split_once(field, '=', &has);
    k = to_lower(trim(k));
    if (k == "type") type = v;
    else if (k == "source" || k == "src") source = v;
    else if (k == "target" || k == "destination" || k == "dst") target = v;
    else if (k == "readonly" || k == "ro") read_only = !has || v == "true" || v == "1";
    else if (k == "bind-propagation") bind_opts["Propagation"] = v;
    else if (k == "bind-recursive") bind_opts["NonRecursive"] = v == "disabled";
    else if (k == "volume-nocopy") volume_opts["NoCopy"] = !has || v == "true" || v == "1";
    else if (k == "volume-subpath") volume_opts["Subpath"] = v;
    else if (k == "volume-label") {
      auto [lk, lv] = split_once(v, '=');
      volume_labels[lk] = lv;
    } else if (k == "volume-driver") volume_opts["DriverConfig"] = json::object{{"Name", v}};
    else if (k == "tmpfs-size") tmpfs_opts["SizeBytes"] = parse_bytes("--mount", v);
    else if (k == "tmpfs-mode") tmpfs_opts["Mode"] = std::strtol(v.c_str(), nullptr, 8);
    else if (k == "consistency") m["Consistency"] = v;
    else invalid("invalid argument \"" + spec + "\" for \"--mount\" flag: unexpected key '" + k +
                 "' in '" + field + "'");
  }
  if (target.empty())
    invalid("invalid argument \"" + spec + "\" for \"--mount\" flag: target is required");
  json::object out;
  out["Type"] = type;
  if (!source.empty()) out["Source"] = source;
  out["Target"] = target;
  if (read_only) out["ReadOnly"] = true;
  if (m.contains("Consistency")) out["Consistency"] = m["Consistency"];
  if (!bind_opts.empty()) out["BindOptions"] = bind_opts;
  if (!volume_labels.empty()) volume_opts["Labels"] = volume_labels;
  if (!volume_opts.empty()) out["VolumeOptions"] = volume_opts;
  if (!tmpfs_opts.empty()) out["TmpfsOptions"] = tmpfs_opts;
  return out;
}

CreateRequest build_create_request(const ContainerOptions& o, const FlagSet& flags,
                                   const std::vector<std::string>& args, bool detach,
                                   unsigned rows, unsigned cols) {
  CreateRequest req;
  req.image = args.at(0);
  req.name = o.name;
  std::vector<std::string> cmd(args.begin() + 1, args.end());

  // Attach streams (docker: -a given, or default stdout+stderr unless detached; stdin with -i).
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  if (!o.attach.empty()) {
    for (auto& a : o.attach) {
      std::string s = to_lower(a);
      if (s == "stdin") attach_stdin = true;
      else if (s == "stdout") attach_stdout = true;
      else if (s == "stderr") attach_stderr = true;
      else invalid("invalid argument \"" + a + "\" for \"-a, --attach\" flag: valid streams are "
                   "STDIN, STDOUT and STDERR");
    }
  } else if (!detach) {
    attach_stdout = attach_stderr = true;
    if (o.interactive) attach_stdin = true;
  }

  std::vector<std::string> env;
  for (auto& file : o.env_file)
    for (auto& e : read_kv_file(file, true)) env.push_back(e);
  for (auto& e : o.env) env.push_back(env_value(e));

  json::object labels;
  for (auto& file : o.label_file)
    for (auto& l : read_kv_file(file, false)) {
      auto [k, v] = split_once(l, '=');
      labels[k] = v;
    }
  for (auto& l : o.labels) {
    auto [k, v] = split_once(l, '=');
    labels[k] = v;
  }

  json::object exposed, bindings;
  for (auto& p : o.publish) parse_publish(p, exposed, bindings);
  for (auto& e : o.expose)
    for (auto& port : expand_ports(e))
      if (!exposed.contains(port)) exposed[port] = json::object();

  std::vector<std::string> binds;
  json::object volumes;
  for (auto& v : o.volumes) {
    // "/path" alone is an anonymous volume; anything with a ':' is a bind or named volume.
    if (v.find(':') == std::string::npos) {
      volumes[v] = json::object();
    } else {
      binds.push_back(v);
    }
  }
  json::array mounts;
  for (auto& m : o.mounts) mounts.push_back(parse_mount(m));
  json::object tmpfs;
  for (auto& t : o.tmpfs) {
    auto [path, opts] = split_once(t, ':');
    tmpfs[path] = opts;
  }

  json::object restart{{"Name", "no"}, {"MaximumRetryCount", 0}};
  {
    bool has = false;
    auto [name, count] = split_once(o.restart, ':', &has);
    if (name != "no" && name != "always" && name != "unless-stopped" && name != "on-failure")
      invalid("invalid restart policy format: unknown policy '" + name +
              "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    if (has && name != "on-failure")
      invalid("invalid restart policy format: maximum retry count can only be used with "
              "'on-failure'");
    restart["Name"] = name;
    if (has) restart["MaximumRetryCount"] = std::atoll(count.c_str());
  }
  if (o.auto_remove && restart["Name"].as_string() != "no")
    invalid("Conflicting options: --restart and --rm");

  json::array ulimits;
  for (auto& u : o.ulimits) {
    bool has = false;
    auto [name, vals] = split_once(u, '=', &has);
    if (!has) invalid("invalid ulimit argument: " + u);
    bool two = false;
    auto [soft, hard] = split_once(vals, ':', &two);
    int64_t s = std::atoll(soft.c_str());
    int64_t h = two ? std::atoll(hard.c_str()) : s;
    ulimits.push_back(json::object{{"Name", name}, {"Hard", h}, {"Soft", s}});
  }

  json::value entrypoint = nullptr;
  if (flags.changed("entrypoint")) {
    json::array ep;
    if (!o.entrypoint.empty()) ep.emplace_back(json::string(o.entrypoint));
    entrypoint = ep;
  }

  std::string network_mode = o.network.empty() ? "default" : o.network;
  json::object endpoints;
  if (!o.network_alias.empty() || !o.ip.empty() || !o.ip6.empty()) {
    if (o.network.empty() || o.network == "default" || o.network == "bridge")
      invalid("network-scoped aliases are only supported for user-defined networks");
    json::value ipam = nullptr;
    if (!o.ip.empty() || !o.ip6.empty()) {
      json::object i;
      if (!o.ip.empty()) i["IPv4Address"] = o.ip;
      if (!o.ip6.empty()) i["IPv6Address"] = o.ip6;
      ipam = i;
    }
    endpoints[o.network] = json::object{
        {"IPAMConfig", ipam}, {"Links", nullptr}, {"Aliases", str_array_or_null(o.network_alias)},
        {"MacAddress", ""}, {"DriverOpts", nullptr}, {"GwPriority", 0}, {"NetworkID", ""},
        {"EndpointID", ""}, {"Gateway", ""}, {"IPAddress", ""}, {"IPPrefixLen", 0},
        {"IPv6Gateway", ""}, {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0},
        {"DNSNames", nullptr}};
  }

  int64_t memory = o.memory.empty() ? 0 : parse_bytes("-m, --memory", o.memory);
  int64_t memory_swap = 0;
  if (o.memory_swap == "-1") memory_swap = -1;
  else if (!o.memory_swap.empty()) memory_swap = parse_bytes("--memory-swap", o.memory_swap);
  int64_t memory_reservation =
      o.memory_reservation.empty() ? 0 : parse_bytes("--memory-reservation", o.memory_reservation);
  int64_t shm = o.shm_size.empty() ? 0 : parse_bytes("--shm-size", o.shm_size);

  json::object config;
  config["Hostname"] = o.hostname;
  config["Domainname"] = o.domainname;
  config["User"] = o.user;
  config["AttachStdin"] = attach_stdin;
  config["AttachStdout"] = attach_stdout;
  config["AttachStderr"] = attach_stderr;
  if (!exposed.empty()) config["ExposedPorts"] = exposed;
  config["Tty"] = o.tty;
  config["OpenStdin"] = o.interactive;
  config["StdinOnce"] = attach_stdin && !detach;
  config["Env"] = str_array_or_null(env);
  config["Cmd"] = str_array_or_null(cmd);
  // docker's rules (cli/command/container/opts.go): any --health-* makes a Healthcheck, zero
  // fields left for the image's; --no-healthcheck alone sends ["NONE"].
  auto duration_flag = [](const std::string& name, const std::string& value) -> int64_t {
    if (value.empty()) return 0;
    double d = 0;
    if (!parse_go_duration(value, &d)) {
      invalid("invalid argument \"" + value + "\" for \"--" + name + "\" flag: time: invalid duration \"" +
              value + "\"");
    }
    return static_cast<int64_t>(d * 1e9);
  };
  const int64_t health_interval = duration_flag("health-interval", o.health_interval);
  const int64_t health_timeout = duration_flag("health-timeout", o.health_timeout);
  const int64_t health_start_period = duration_flag("health-start-period", o.health_start_period);
  const int64_t health_start_interval = duration_flag("health-start-interval", o.health_start_interval);
  const bool health_settings = !o.health_cmd.empty() || health_interval != 0 || health_timeout != 0 ||
                               health_start_period != 0 || o.health_retries != 0 ||
                               health_start_interval != 0;
  if (o.no_healthcheck) {
    if (health_settings) invalid("--no-healthcheck conflicts with --health-* options");
    config["Healthcheck"] = json::object{{"Test", json::array{"NONE"}}};
  } else if (health_settings) {
    if (health_interval < 0) invalid("--health-interval cannot be negative");
    if (health_timeout < 0) invalid("--health-timeout cannot be negative");
    if (o.health_retries < 0) invalid("--health-retries cannot be negative");
    if (health_start_period < 0) invalid("--health-start-period cannot be negative");
    if (health_start_interval < 0) invalid("--health-start-interval cannot be negative");
    json::object hc;
    if (!o.health_cmd.empty()) hc["Test"] = json::array{"CMD-SHELL", json::string(o.health_cmd)};
    hc["Interval"] = health_interval;
    hc["Timeout"] = health_timeout;
    hc["StartPeriod"] = health_start_period;
    hc["StartInterval"] = health_start_interval;
    hc["Retries"] = o.health_retries;
    config["Healthcheck"] = std::move(hc);
  }
  config["Image"] = req.image;
  config["Volumes"] = volumes;
  config["WorkingDir"] = o.workdir;
  config["Entrypoint"] = entrypoint;
  if (!o.mac_address.empty()) config["MacAddress"] = o.mac_address;
  config["OnBuild"] = nullptr;
  config["Labels"] = labels;
  if (!o.stop_signal.empty()) config["StopSignal"] = o.stop_signal;
  if (o.stop_timeout_set) config["StopTimeout"] = o.stop_timeout;

  json::object log_config{{"Type", o.log_driver}, {"Config", json::object()}};
  for (auto& lo : o.log_opt) {
    auto [k, v] = split_once(lo, '=');
    log_config["Config"].as_object()[k] = v;
  }

  json::object host;
  host["Binds"] = str_array_or_null(binds);
  host["ContainerIDFile"] = o.cidfile;
  host["LogConfig"] = log_config;
  host["NetworkMode"] = network_mode;
  host["PortBindings"] = bindings;
  host["RestartPolicy"] = restart;
  host["AutoRemove"] = o.auto_remove;
  host["VolumeDriver"] = o.volume_driver;
  host["VolumesFrom"] = str_array_or_null(o.volumes_from);
  host["ConsoleSize"] = json::array{rows, cols};
  // docker normalises capability names: upper case with the CAP_ prefix ("ALL" stays).
  auto caps = [](const std::vector<std::string>& in) {
    std::vector<std::string> out;
    for (auto& c : in) {
      std::string u = to_upper(trim(c));
      if (u != "ALL" && !u.starts_with("CAP_")) u = "CAP_" + u;
      out.push_back(u);
    }
    return out;
  };
  host["CapAdd"] = str_array_or_null(caps(o.cap_add));
  host["CapDrop"] = str_array_or_null(caps(o.cap_drop));
  host["CgroupnsMode"] = o.cgroupns;
  host["Dns"] = str_array(o.dns);
  host["DnsOptions"] = str_array(o.dns_option);
  host["DnsSearch"] = str_array(o.dns_search);
  host["ExtraHosts"] = str_array_or_null(o.add_host);
  host["GroupAdd"] = str_array_or_null(o.group_add);
  host["IpcMode"] = o.ipc;
  host["Cgroup"] = "";
  host["Links"] = str_array_or_null(o.links);
  host["OomScoreAdj"] = o.oom_score_adj;
  host["PidMode"] = o.pid;
  host["Privileged"] = o.privileged;
  host["PublishAllPorts"] = o.publish_all;
  host["ReadonlyRootfs"] = o.read_only;
  host["SecurityOpt"] = str_array_or_null(o.security_opt);
  if (!o.storage_opt.empty()) {
    json::object so;
    for (auto& s : o.storage_opt) {
      auto [k, v] = split_once(s, '=');
      so[k] = v;
    }
    host["StorageOpt"] = so;
  }
  if (!tmpfs.empty()) host["Tmpfs"] = tmpfs;
  host["UTSMode"] = o.uts;
  host["UsernsMode"] = o.userns;
  host["ShmSize"] = shm;
  if (!o.sysctls.empty()) {
    json::object sc;
    for (auto& s : o.sysctls) {
      auto [k, v] = split_once(s, '=');
      sc[k] = v;
    }
    host["Sysctls"] = sc;
  }
  if (!o.runtime.empty()) host["Runtime"] = o.runtime;
  host["Isolation"] = o.isolation;
  host["CpuShares"] = o.cpu_shares;
  host["Memory"] = memory;
  host["NanoCpus"] = static_cast<int64_t>(o.cpus * 1e9 + 0.5);
  host["CgroupParent"] = o.cgroup_parent;
  host["BlkioWeight"] = o.blkio_weight;
  host["BlkioWeightDevice"] = json::array();
  host["BlkioDeviceReadBps"] = json::array();
  host["BlkioDeviceWriteBps"] = json::array();
  host["BlkioDeviceReadIOps"] = json::array();
  host["BlkioDeviceWriteIOps"] = json::array();
  host["CpuPeriod"] = o.cpu_period;
  host["CpuQuota"] = o.cpu_quota;
  host["CpuRealtimePeriod"] = 0;
  host["CpuRealtimeRuntime"] = 0;
  host["CpusetCpus"] = o.cpuset_cpus;
  host["CpusetMems"] = o.cpuset_mems;
  json::array devices;
  for (auto& d : o.devices) {
    auto parts = split(d, ":");
    std::string on_host = parts[0];
    std::string in_ctr = parts.size() > 1 && !parts[1].empty() && parts[1][0] == '/' ? parts[1]
                                                                                    : on_host;
    std::string perms = parts.size() > 2   ? parts[2]
                        : parts.size() == 2 && parts[1][0] != '/' ? parts[1]
                                                                  : "rwm";
    devices.push_back(json::object{{"PathOnHost", on_host}, {"PathInContainer", in_ctr},
                                   {"CgroupPermissions", perms}});
  }
  host["Devices"] = devices;
  host["DeviceCgroupRules"] = nullptr;
  host["DeviceRequests"] = nullptr;
  host["MemoryReservation"] = memory_reservation;
  host["MemorySwap"] = memory_swap;
  host["MemorySwappiness"] = o.memory_swappiness;
  host["OomKillDisable"] = o.oom_kill_disable;
  host["PidsLimit"] = o.pids_limit;
  host["Ulimits"] = ulimits;
  host["CpuCount"] = 0;
  host["CpuPercent"] = 0;
  host["IOMaximumIOps"] = 0;
  host["IOMaximumBandwidth"] = 0;
  if (!mounts.empty()) host["Mounts"] = mounts;
  host["MaskedPaths"] = nullptr;
  host["ReadonlyPaths"] = nullptr;
  if (flags.changed("init")) host["Init"] = o.init;

  req.body = config;
  req.body["HostConfig"] = host;
  req.body["NetworkingConfig"] = json::object{{"EndpointsConfig", endpoints}};
  return req;
}

}  // namespace berth::cli
