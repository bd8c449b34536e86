// Registry credentials in the CLI's config.json, as the docker CLI keeps them, so the two can
// share one file: "auths": {"<server>": {"auth": base64("user:password")}}, and the credential
// helpers it names ("credsStore" for every registry, "credHelpers": {"<server>": "<helper>"}),
// run as docker-credential-<helper> get|store|erase with docker's stdin/stdout protocol.
// Docker Hub's key is "https://index.docker.io/v1/"; any other registry's is its host[:port].
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace berth::cli {

struct StoredAuth {
  std::string username;
  std::string password;  // or an identity token when username is "<token>"
  std::string server;
};

// The config.json key of the registry of `domain` ("docker.io" → Docker Hub's URL).
std::string credentials_server(const std::string& domain);

class DockerConfig {
 public:
  explicit DockerConfig(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::optional<StoredAuth> get(const std::string& server) const;
  // Throws StatusError when the file or a helper cannot be written.
  void store(const StoredAuth& auth);
  // False when nothing was stored for `server`.
  bool erase(const std::string& server);

  std::filesystem::path file() const { return dir_ / "config.json"; }

 private:
  std::string helper_for(const std::string& server) const;
  std::filesystem::path dir_;
};

// X-Registry-Auth for an image on `domain`, from the stored credentials ("e30=" when none).
std::string registry_auth_for(const std::filesystem::path& config_dir, const std::string& domain);

}  // namespace berth::cli
