// RegistryTransport: moves bytes to and from an OCI distribution registry. The host verifies
// every digest and size it receives; a transport is never trusted with integrity.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/host.hpp"

namespace berth::sdk {

struct RepoRef {
  std::string registry;    // "127.0.0.1:5000", "registry-1.docker.io"
  std::string repository;  // "library/busybox"
  bool insecure = false;   // plain HTTP allowed
};

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
};

struct FetchedManifest {
  Descriptor descriptor;
  std::string body;  // the exact bytes, so the digest can be verified
};

// docker search: the registry's /v1/search (Docker Hub's search API; the OCI distribution spec
// has none, so many registries answer 404 and search is then kUnsupported).
struct SearchQuery {
  std::string registry;  // "127.0.0.1:5000", "index.docker.io"
  bool insecure = false;
  std::string term;      // what to look for, without the registry
  int limit = 25;        // 1..100
};

struct SearchResult {
  std::string name;
  std::string description;
  int64_t star_count = 0;
  bool is_official = false;
  bool is_automated = false;
};

struct LoginResult {
  std::string status = "Login Succeeded";
  std::string identity_token;
};

// Pull/push byte streams.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status write(std::string_view data) = 0;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Bytes read into buffer (> 0), 0 at the end.
  virtual Result<size_t> read(char* buffer, size_t capacity) = 0;
};

class RegistryTransport {
 public:
  virtual ~RegistryTransport() = default;

  virtual DriverInfo info() = 0;
  virtual Result<LoginResult> login(Context& ctx, std::string_view registry_host,
                                    const Credentials& credentials) = 0;
  virtual Result<Descriptor> resolve(Context& ctx, const RepoRef& repo, std::string_view reference,
                                     const std::vector<std::string>& accept) = 0;
  virtual Result<FetchedManifest> fetch_manifest(Context& ctx, const RepoRef& repo,
                                                 std::string_view reference,
                                                 const std::vector<std::string>& accept) = 0;
  virtual Status fetch_blob(Context& ctx, const RepoRef& repo, const Descriptor& blob,
                            uint64_t offset, ByteSink& out) = 0;
  virtual Result<bool> blob_exists(Context& ctx, const RepoRef& repo, std::string_view digest) = 0;
  virtual Status push_blob(Context& ctx, const RepoRef& repo, const Descriptor& blob,
                           std::string_view mount_from, ByteSource& source) = 0;
  virtual Result<std::string> push_manifest(Context& ctx, const RepoRef& repo,
                                            std::string_view tag, std::string_view media_type,
                                            std::string_view body) = 0;
  virtual Result<std::vector<std::string>> list_tags(Context& ctx, const RepoRef& repo) = 0;
  // ABI 2.1. Not pure, so a transport written before it still builds: it answers kUnsupported.
  virtual Result<std::vector<SearchResult>> search(Context& /*ctx*/, const SearchQuery& query) {
    return make_error(ErrorCode::kUnsupported,
                      "search is not supported by this registry transport (" + query.registry + ")");
  }
};

}  // namespace berth::sdk
