#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/client/tls_config.hpp"

namespace berth::cli {

// One stored context: a named daemon endpoint. Field names and layout are docker's, so a
// context exported by `docker context export` imports here and the reverse.
struct ContextMeta {
  std::string name;
  std::string description;
  std::string host;  // the "docker" endpoint's Host: unix://, tcp:// or ssh://
  bool skip_tls_verify = false;
};

// PEM contents of a context's TLS material ("" = absent).
struct ContextTls {
  std::string ca, cert, key;
  bool empty() const { return ca.empty() && cert.empty() && key.empty(); }
};

// The context store under the config folder, laid out as docker lays out ~/.docker:
//   contexts/meta/<sha256(name)>/meta.json
//       {"Name":..,"Metadata":{"Description":..},"Endpoints":{"docker":{"Host":..,"SkipTLSVerify":..}}}
//   contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem   (folders 0700, files 0600)
//   config.json  {"currentContext": NAME, ...}             (other keys kept as they are)
class ContextStore {
 public:
  explicit ContextStore(std::filesystem::path config_dir) : dir_(std::move(config_dir)) {}
  const std::filesystem::path& dir() const { return dir_; }

  // docker's rule: ^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$, and "default" is reserved. Throws StatusError.
  static void validate_name(const std::string& name);

  std::vector<ContextMeta> list() const;  // sorted by name
  std::optional<ContextMeta> get(const std::string& name) const;
  // Creates or replaces the context and its TLS material (none: the folder is removed).
  void save(const ContextMeta& meta, const ContextTls& tls);
  // Throws StatusError when it does not exist.
  void remove(const std::string& name);
  // TLS files present, by file name ("ca.pem", "cert.pem", "key.pem") -> path.
  std::map<std::string, std::filesystem::path> tls_files(const std::string& name) const;
  std::filesystem::path meta_dir(const std::string& name) const;
  std::filesystem::path tls_dir(const std::string& name) const;

  // config.json's currentContext ("" when unset).
  std::string current() const;
  // "default" (or "") removes the key.
  void set_current(const std::string& name);
  std::filesystem::path config_file() const { return dir_ / "config.json"; }

  // docker's export format: a tar with meta.json and tls/docker/*.pem.
  std::string export_tar(const std::string& name) const;
  // Imports under `name` (the name inside the archive is ignored, as in docker). Throws
  // StatusError on a malformed archive.
  void import_tar(const std::string& name, const std::string& data);

  // How to reach a context's daemon over TLS, with docker's rules: TLS when it has TLS
  // material or skips verification; verified (against its CA, else the system roots) unless
  // SkipTLSVerify.
  TlsConfig tls_config(const ContextMeta& meta) const;

  // Encoding of meta.json (exposed for the tests).
  static std::string encode_meta(const ContextMeta& meta);
  static ContextMeta decode_meta(const std::string& json, const std::string& where);

 private:
  std::filesystem::path dir_;
};

// docker's context folder name: hex sha256 of the context name.
std::string context_dir_name(const std::string& name);

}  // namespace berth::cli
