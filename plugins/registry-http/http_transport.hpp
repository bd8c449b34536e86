// registry.http: berth::sdk::RegistryTransport over the OCI distribution HTTP API. It moves bytes
// only: the core verifies every digest and size it receives.
//
// Configuration (daemon.json "plugins": {"registry.http": {...}}), every key optional:
//   "certs-dir"           Docker-style certificate folders (default /etc/docker/certs.d)
//   "connect-timeout-ms"  (15000)   "stall-timeout-ms" (60000): no byte moved for this long
//   "max-attempts"        (4) tries of a request that failed with 429, 5xx or a dropped connection
#pragma once

#include <memory>

#include "berth/sdk/registry_transport.hpp"
#include "http_client.hpp"
#include "registry_session.hpp"

namespace berth::plugins::registry_http {

class HttpTransport final : public sdk::RegistryTransport {
 public:
  static sdk::Result<std::unique_ptr<HttpTransport>> create(const sdk::InitContext& init);

  sdk::DriverInfo info() override;
  sdk::Result<sdk::LoginResult> login(sdk::Context& ctx, std::string_view registry_host,
                                      const sdk::Credentials& credentials) override;
  sdk::Result<sdk::Descriptor> resolve(sdk::Context& ctx, const sdk::RepoRef& repo,
                                       std::string_view reference,
                                       const std::vector<std::string>& accept) override;
  sdk::Result<sdk::FetchedManifest> fetch_manifest(sdk::Context& ctx, const sdk::RepoRef& repo,
                                                   std::string_view reference,
                                                   const std::vector<std::string>& accept) override;
  sdk::Status fetch_blob(sdk::Context& ctx, const sdk::RepoRef& repo, const sdk::Descriptor& blob,
                         uint64_t offset, sdk::ByteSink& out) override;
  sdk::Result<bool> blob_exists(sdk::Context& ctx, const sdk::RepoRef& repo,
                                std::string_view digest) override;
  sdk::Status push_blob(sdk::Context& ctx, const sdk::RepoRef& repo, const sdk::Descriptor& blob,
                        std::string_view mount_from, sdk::ByteSource& source) override;
  sdk::Result<std::string> push_manifest(sdk::Context& ctx, const sdk::RepoRef& repo,
                                         std::string_view tag, std::string_view media_type,
                                         std::string_view body) override;
  sdk::Result<std::vector<std::string>> list_tags(sdk::Context& ctx,
                                                  const sdk::RepoRef& repo) override;
  // GET /v1/search?q=&n= (Docker Hub's search API, which the distribution spec lacks).
  sdk::Result<std::vector<sdk::SearchResult>> search(sdk::Context& ctx,
                                                     const sdk::SearchQuery& query) override;

  HttpTransport(ClientOptions client, SessionOptions session, sdk::CredentialProvider* credentials,
                sdk::Logger* log);

 private:
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<RegistrySession> session_;
  sdk::Logger* log_;
};

}  // namespace berth::plugins::registry_http
