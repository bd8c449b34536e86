#include "http_transport.hpp"

#include <boost/json.hpp>

#include "berth/sdk/config_reader.hpp"

namespace json = boost::json;

namespace berth::plugins::registry_http {
namespace {

constexpr size_t kMaxManifest = 4 << 20;  // distribution's own limit for a manifest
constexpr size_t kMaxSmallAnswer = 1 << 20;
constexpr int kMaxTagPages = 1000;  // a bound on a registry that keeps answering "next"

std::string accept_header(const std::vector<std::string>& accept) {
  std::string out;
  for (const auto& a : accept) out += (out.empty() ? "" : ", ") + a;
  return out;
}

Target pull_target(const sdk::RepoRef& repo) {
  return Target{repo.registry, repo.insecure, {"repository:" + repo.repository + ":pull"}};
}

Target push_target(const sdk::RepoRef& repo, std::string_view mount_from = {}) {
  Target t{repo.registry, repo.insecure, {"repository:" + repo.repository + ":pull,push"}};
  if (!mount_from.empty()) t.scopes.push_back("repository:" + std::string(mount_from) + ":pull");
  return t;
}

std::string where(const sdk::RepoRef& repo) { return repo.registry + "/" + repo.repository; }

// A non-2xx answer as an error whose code tells the core what happened.
sdk::Error status_error(const HttpResponse& r, const std::string& what) {
  sdk::ErrorCode code = sdk::ErrorCode::kUnavailable;
  if (r.status == 401 || r.status == 403) code = sdk::ErrorCode::kPermissionDenied;
  else if (r.status == 404) code = sdk::ErrorCode::kNotFound;
  else if (r.status == 400 || r.status == 405 || r.status == 416) code = sdk::ErrorCode::kInvalidArgument;
  else if (r.status == 429) code = sdk::ErrorCode::kResourceExhausted;
  return sdk::make_error(code, what + ": " + registry_error_text(r));
}

int64_t content_length(const HttpResponse& r) {
  try {
    return std::stoll(r.header("content-length"));
  } catch (...) {
    return -1;
  }
}

// A Location header of an upload session, with `extra` query parameters appended.
std::string with_query(const std::string& location_target, const std::string& extra) {
  return location_target + (location_target.find('?') == std::string::npos ? "?" : "&") + extra;
}

}  // namespace

HttpTransport::HttpTransport(ClientOptions client, SessionOptions session,
                             sdk::CredentialProvider* credentials, sdk::Logger* log)
    : client_(std::make_unique<HttpClient>(std::move(client))),
      session_(std::make_unique<RegistrySession>(*client_, credentials, session)),
      log_(log) {}

sdk::Result<std::unique_ptr<HttpTransport>> HttpTransport::create(const sdk::InitContext& init) {
  auto reader = sdk::ConfigReader::parse(
      init.config_json, {"certs-dir", "connect-timeout-ms", "stall-timeout-ms", "max-attempts"});
  if (!reader) return std::move(reader).error();
  ClientOptions client;
  SessionOptions session;
  int64_t connect_ms = client.connect_timeout.count();
  int64_t stall_ms = client.stall_timeout.count();
  int64_t attempts = session.max_attempts;
  BERTH_TRY_STATUS(reader->read("certs-dir", client.certs_dir));
  BERTH_TRY_STATUS(reader->read("connect-timeout-ms", connect_ms));
  BERTH_TRY_STATUS(reader->read("stall-timeout-ms", stall_ms));
  BERTH_TRY_STATUS(reader->read("max-attempts", attempts));
  if (connect_ms <= 0 || stall_ms <= 0) return sdk::config_error("timeouts must be positive");
  if (attempts < 1 || attempts > 20) return sdk::config_error("max-attempts: must be 1 to 20");
  client.connect_timeout = std::chrono::milliseconds(connect_ms);
  client.stall_timeout = std::chrono::milliseconds(stall_ms);
  session.max_attempts = static_cast<int>(attempts);
  return std::make_unique<HttpTransport>(client, session, init.credentials, init.log);
}

sdk::DriverInfo HttpTransport::info() {
  return sdk::DriverInfo{"http",
                         {"https", "bearer-token", "basic-auth", "range", "cross-repo-mount"},
                         {{"connections opened", std::to_string(client_->connections_opened())}}};
}

sdk::Result<sdk::LoginResult> HttpTransport::login(sdk::Context& ctx, std::string_view registry_host,
                                                   const sdk::Credentials& credentials) {
  // "http://host" from the core: plain HTTP is allowed for this registry (loopback, insecure).
  Target t;
  t.host = std::string(registry_host);
  if (t.host.rfind("http://", 0) == 0) {
    t.host.erase(0, 7);
    t.insecure = true;
  }
  return session_->login(ctx, t, credentials);
}

sdk::Result<sdk::Descriptor> HttpTransport::resolve(sdk::Context& ctx, const sdk::RepoRef& repo,
                                                    std::string_view reference,
                                                    const std::vector<std::string>& accept) {
  HttpRequest req;
  req.method = "HEAD";
  req.url.target = "/v2/" + repo.repository + "/manifests/" + std::string(reference);
  req.headers.emplace_back("Accept", accept_header(accept));
  auto r = session_->perform(ctx, pull_target(repo), req, nullptr, kMaxSmallAnswer, true);
  if (!r) return r.error();
  std::string what = "manifest " + where(repo) + ":" + std::string(reference);
  if (r->status != 200) return status_error(*r, what);
  sdk::Descriptor d{r->header("content-type"), r->header("docker-content-digest"), content_length(*r)};
  if (d.digest.empty()) {
    return sdk::make_error(sdk::ErrorCode::kUnsupported, what + ": the registry sent no Docker-Content-Digest");
  }
  return d;
}

sdk::Result<sdk::FetchedManifest> HttpTransport::fetch_manifest(
    sdk::Context& ctx, const sdk::RepoRef& repo, std::string_view reference,
    const std::vector<std::string>& accept) {
  HttpRequest req;
  req.url.target = "/v2/" + repo.repository + "/manifests/" + std::string(reference);
  req.headers.emplace_back("Accept", accept_header(accept));
  auto r = session_->perform(ctx, pull_target(repo), req, nullptr, kMaxManifest, true);
  std::string what = "manifest " + where(repo) + ":" + std::string(reference);
  if (!r) return std::move(r).error().wrap(what);
  if (r->status != 200) return status_error(*r, what);
  sdk::FetchedManifest m;
  m.descriptor = {r->header("content-type"), r->header("docker-content-digest"),
                  static_cast<int64_t>(r->body.size())};
  m.body = std::move(r->body);
  return m;
}

sdk::Status HttpTransport::fetch_blob(sdk::Context& ctx, const sdk::RepoRef& repo,
                                      const sdk::Descriptor& blob, uint64_t offset,
                                      sdk::ByteSink& out) {
  std::string what = "blob " + blob.digest + " of " + where(repo);
  uint64_t position = offset;
  // A connection that drops mid-blob resumes with a Range request from where it stopped.
  sdk::Error last = sdk::make_error(sdk::ErrorCode::kUnavailable, what);
  for (int attempt = 0; attempt < 4; ++attempt) {
    HttpRequest req;
    req.url.target = "/v2/" + repo.repository + "/blobs/" + blob.digest;
    if (position > 0) req.headers.emplace_back("Range", "bytes=" + std::to_string(position) + "-");
    uint64_t skip = 0;
    // A registry that ignored Range sends the whole blob again: drop what we already have.
    req.on_headers = [&, asked = position](const HttpResponse& head) -> sdk::Status {
      skip = head.status == 200 ? asked : 0;
      return {};
    };
    BodySink sink = [&](std::string_view data) -> sdk::Status {
      if (skip > 0) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(skip, data.size()));
        data.remove_prefix(n);
        skip -= n;
        if (data.empty()) return {};
      }
      position += data.size();
      return out.write(data);
    };
    uint64_t before = position;
    auto r = session_->perform(ctx, pull_target(repo), req, &sink, kMaxSmallAnswer, true);
    if (r && (r->status == 200 || r->status == 206)) return {};
    if (r && r->status == 416 && position >= static_cast<uint64_t>(blob.size)) return {};
    if (r) return status_error(*r, what);
    last = r.error();
    bool progressed = position > before;
    if (last.code != sdk::ErrorCode::kUnavailable && last.code != sdk::ErrorCode::kDeadlineExceeded) break;
    if (!progressed && attempt >= 2) break;
    if (log_ != nullptr) {
      log_->warn("blob download interrupted; resuming", {{"digest", blob.digest},
                                                         {"offset", std::to_string(position)}});
    }
  }
  return std::move(last).wrap(what);
}

sdk::Result<bool> HttpTransport::blob_exists(sdk::Context& ctx, const sdk::RepoRef& repo,
                                             std::string_view digest) {
  HttpRequest req;
  req.method = "HEAD";
  req.url.target = "/v2/" + repo.repository + "/blobs/" + std::string(digest);
  auto r = session_->perform(ctx, push_target(repo), req, nullptr, kMaxSmallAnswer, true);
  if (!r) return r.error();
  if (r->status == 200) return true;
  if (r->status == 404) return false;
  return status_error(*r, "check blob " + std::string(digest) + " in " + where(repo));
}

sdk::Status HttpTransport::push_blob(sdk::Context& ctx, const sdk::RepoRef& repo,
                                     const sdk::Descriptor& blob, std::string_view mount_from,
                                     sdk::ByteSource& source) {
  std::string what = "upload blob " + blob.digest + " to " + where(repo);
  Target target = push_target(repo, mount_from);
  HttpRequest start;
  start.method = "POST";
  start.url.target = "/v2/" + repo.repository + "/blobs/uploads/";
  if (!mount_from.empty()) {
    start.url.target += "?mount=" + query_escape(blob.digest) + "&from=" + query_escape(mount_from);
  }
  auto r = session_->perform(ctx, target, start, nullptr, kMaxSmallAnswer, false);
  if (!r) return std::move(r).error().wrap(what);
  if (r->status == 201) return {};  // mounted from the other repository
  if (r->status != 202) return status_error(*r, what);
  auto location = r->header("location");
  Url base;
  base.scheme = "http";
  base.host = repo.registry;
  base.target = start.url.target;
  auto url = resolve_location(base, location);
  if (location.empty() || !url) {
    return sdk::make_error(sdk::ErrorCode::kUnavailable, what + ": no upload location in the answer");
  }
  HttpRequest put;
  put.method = "PUT";
  put.url.target = with_query(url->target, "digest=" + query_escape(blob.digest));
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  put.body_source = &source;
  put.body_length = blob.size;
  auto done = session_->perform(ctx, target, put, nullptr, kMaxSmallAnswer, false);
  if (!done) return std::move(done).error().wrap(what);
  if (done->status != 201) return status_error(*done, what);
  return {};
}

sdk::Result<std::string> HttpTransport::push_manifest(sdk::Context& ctx, const sdk::RepoRef& repo,
                                                      std::string_view tag,
                                                      std::string_view media_type,
                                                      std::string_view body) {
  std::string what = "push manifest " + where(repo) + ":" + std::string(tag);
  HttpRequest req;
  req.method = "PUT";
  req.url.target = "/v2/" + repo.repository + "/manifests/" + std::string(tag);
  req.headers.emplace_back("Content-Type", std::string(media_type));
  req.body = std::string(body);
  auto r = session_->perform(ctx, push_target(repo), req, nullptr, kMaxSmallAnswer, true);
  if (!r) return std::move(r).error().wrap(what);
  if (r->status != 201 && r->status != 200) return status_error(*r, what);
  return r->header("docker-content-digest");
}

sdk::Result<std::vector<std::string>> HttpTransport::list_tags(sdk::Context& ctx,
                                                              const sdk::RepoRef& repo) {
  std::string what = "list tags of " + where(repo);
  std::vector<std::string> tags;
  auto first = parse_url("http://" + repo.registry + "/v2/" + repo.repository + "/tags/list");
  if (!first) return sdk::make_error(sdk::ErrorCode::kInvalidArgument, what + ": bad registry host");
  Url page = *first;
  // Registries page long lists (Quay and Harbor by default, any with ?n=): every page is
  // followed through its Link header, on the same registry only.
  for (int pages = 0; pages < kMaxTagPages; ++pages) {
    HttpRequest req;
    req.url.target = page.target;
    auto r = session_->perform(ctx, pull_target(repo), req, nullptr, 16 << 20, true);
    if (!r) return std::move(r).error().wrap(what);
    if (r->status != 200) return status_error(*r, what);
    boost::system::error_code ec;
    auto v = json::parse(r->body, ec);
    if (ec || !v.is_object()) return sdk::make_error(sdk::ErrorCode::kInvalidArgument, what + ": not JSON");
    if (const auto* t = v.as_object().if_contains("tags"); t && t->is_array()) {
      for (const auto& e : t->as_array()) {
        if (e.is_string()) tags.emplace_back(e.as_string());
      }
    }
    std::string next = next_link(r->header("link"));
    if (next.empty()) return tags;
    auto url = resolve_location(page, next);
    if (!url || url->host != page.host) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument, what + ": the registry's next page is elsewhere: " + next);
    }
    page.target = url->target;
  }
  return sdk::make_error(sdk::ErrorCode::kResourceExhausted,
                         what + ": more than " + std::to_string(kMaxTagPages) + " pages of tags");
}

sdk::Result<std::vector<sdk::SearchResult>> HttpTransport::search(sdk::Context& ctx,
                                                                  const sdk::SearchQuery& query) {
  std::string what = "search " + query.registry + " for \"" + query.term + "\"";
  HttpRequest req;
  req.url.target = "/v1/search?q=" + query_escape(query.term) + "&n=" + std::to_string(query.limit);
  // A token registry grants search with the catalog's scope (what berth-registry asks).
  Target target{query.registry, query.insecure, {"registry:catalog:*"}};
  auto r = session_->perform(ctx, target, req, nullptr, kMaxSmallAnswer, true);
  if (!r) return std::move(r).error().wrap(what);
  if (r->status == 404 || r->status == 405 || r->status == 501) {
    return sdk::make_error(sdk::ErrorCode::kUnsupported,
                           what + ": search is not supported by this registry (it has no /v1/search)");
  }
  if (r->status != 200) return status_error(*r, what);
  boost::system::error_code ec;
  auto v = json::parse(r->body, ec);
  if (ec || !v.is_object()) return sdk::make_error(sdk::ErrorCode::kInvalidArgument, what + ": the answer is not JSON");
  std::vector<sdk::SearchResult> out;
  const auto* results = v.as_object().if_contains("results");
  if (results == nullptr || !results->is_array()) return out;
  for (const auto& e : results->as_array()) {
    if (!e.is_object()) continue;
    const auto& o = e.as_object();
    sdk::SearchResult item;
    if (const auto* n = o.if_contains("name"); n && n->is_string()) item.name = n->as_string();
    if (item.name.empty()) continue;
    if (const auto* d = o.if_contains("description"); d && d->is_string()) item.description = d->as_string();
    if (const auto* s = o.if_contains("star_count"); s && s->is_int64()) item.star_count = s->as_int64();
    if (const auto* b = o.if_contains("is_official"); b && b->is_bool()) item.is_official = b->as_bool();
    if (const auto* b = o.if_contains("is_automated"); b && b->is_bool()) item.is_automated = b->as_bool();
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace berth::plugins::registry_http
