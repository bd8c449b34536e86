#include "cli/client/docker_config.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>

#include "berth/sdk/base64.hpp"
#include "cli/app/errors.hpp"
#include "cli/client/registry_auth.hpp"
#include "cli/util/files.hpp"

namespace json = boost::json;

namespace berth::cli {
namespace {

json::object read_config(const std::filesystem::path& file) {
  auto text = read_file_if_exists(file);
  if (!text) return {};
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) throw StatusError("invalid config file " + file.string() + ": not a JSON object", 1);
  return v.as_object();
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Runs docker-credential-<helper> <verb> with `input` on stdin; its stdout, or nullopt when it
// failed (a "credentials not found" answer is a failure too).
std::optional<std::string> run_helper(const std::string& helper, const char* verb,
                                      const std::string& input) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return std::nullopt;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return std::nullopt;
  }
  std::string program = "docker-credential-" + helper;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execlp(program.c_str(), program.c_str(), verb, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (pid < 0) {
    ::close(in[1]);
    ::close(out[0]);
    return std::nullopt;
  }
  (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  std::string result;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return result;
}

}  // namespace

std::string credentials_server(const std::string& domain) {
  if (domain.empty() || domain == "docker.io" || domain == "index.docker.io" ||
      domain == "registry-1.docker.io" || domain == "https://index.docker.io/v1/") {
    return "https://index.docker.io/v1/";
  }
  std::string s = domain;
  for (const char* scheme : {"https://", "http://"}) {
    if (s.rfind(scheme, 0) == 0) s.erase(0, std::string_view(scheme).size());
  }
  if (auto slash = s.find('/'); slash != std::string::npos) s.resize(slash);
  return s;
}

std::string DockerConfig::helper_for(const std::string& server) const {
  auto o = read_config(file());
  if (const auto* h = o.if_contains("credHelpers"); h && h->is_object()) {
    std::string helper = str(h->as_object(), server);
    if (!helper.empty()) return helper;
  }
  return str(o, "credsStore");
}

std::optional<StoredAuth> DockerConfig::get(const std::string& server) const {
  if (std::string helper = helper_for(server); !helper.empty()) {
    auto out = run_helper(helper, "get", server);
    if (!out) return std::nullopt;
    boost::system::error_code ec;
    auto v = json::parse(*out, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return StoredAuth{str(v.as_object(), "Username"), str(v.as_object(), "Secret"), server};
  }
  auto o = read_config(file());
  const auto* auths = o.if_contains("auths");
  if (auths == nullptr || !auths->is_object()) return std::nullopt;
  const auto* entry = auths->as_object().if_contains(server);
  if (entry == nullptr || !entry->is_object()) return std::nullopt;
  StoredAuth a{"", "", server};
  if (auto decoded = sdk::base64_decode(str(entry->as_object(), "auth"))) {
    auto colon = decoded->find(':');
    if (colon != std::string::npos) {
      a.username = decoded->substr(0, colon);
      a.password = decoded->substr(colon + 1);
    }
  }
  if (std::string token = str(entry->as_object(), "identitytoken"); !token.empty()) {
    a.username = "<token>";
    a.password = token;
  }
  if (a.username.empty()) return std::nullopt;
  return a;
}

void DockerConfig::store(const StoredAuth& auth) {
  auto o = read_config(file());
  if (std::string helper = helper_for(auth.server); !helper.empty()) {
    json::object creds{{"ServerURL", auth.server}, {"Username", auth.username}, {"Secret", auth.password}};
    if (!run_helper(helper, "store", json::serialize(creds))) {
      throw StatusError("error storing credentials: docker-credential-" + helper + " store failed", 1);
    }
    // docker keeps an empty entry so `docker login` lists the registry.
    auto& auths = o["auths"];
    if (!auths.is_object()) auths = json::object{};
    auths.as_object()[auth.server] = json::object{};
  } else {
    auto& auths = o["auths"];
    if (!auths.is_object()) auths = json::object{};
    auths.as_object()[auth.server] =
        json::object{{"auth", sdk::base64_encode(auth.username + ":" + auth.password)}};
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  write_file_atomic(file(), json::serialize(o), 0600);
}

bool DockerConfig::erase(const std::string& server) {
  auto o = read_config(file());
  bool found = false;
  if (std::string helper = helper_for(server); !helper.empty()) {
    found = run_helper(helper, "erase", server).has_value();
  }
  if (auto* auths = o.if_contains("auths"); auths && auths->is_object()) {
    found = auths->as_object().erase(server) > 0 || found;
  }
  if (found) write_file_atomic(file(), json::serialize(o), 0600);
  return found;
}

std::string registry_auth_for(const std::filesystem::path& config_dir, const std::string& domain) {
  std::string server = credentials_server(domain);
  std::optional<StoredAuth> a;
  try {
    a = DockerConfig(config_dir).get(server);
  } catch (const StatusError&) {
    a.reset();
  }
  if (!a) return encode_registry_auth();
  return encode_registry_auth(a->username, a->password, server);
}

}  // namespace berth::cli
