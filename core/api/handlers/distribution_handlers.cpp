#include "core/api/handlers/distribution_handlers.hpp"

#include <boost/json.hpp>

#include "core/api/filters.hpp"
#include "core/api/json_stream.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/image/image_search.hpp"
#include "core/image/registry_hosts.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

const char* kNoTransport =
    ": this berthd has no registry transport plugin loaded (registry.http); install "
    "berth-registry-http.so in a plugin directory, or use `berth load` / `berth import`";

}  // namespace

void images_pull(image::ImagePuller* puller, Request& req, ResponseWriter& res) {
  std::string from = req.query_value("fromImage").value_or("");
  std::string tag = req.query_value("tag").value_or("");
  if (puller == nullptr) return res.send_error(501, "pull " + from + kNoTransport);
  auto auth = image::parse_registry_auth(req.header("x-registry-auth"));
  if (!auth) return res.send_error(auth.error());
  auto ref = image::parse_normalized(from);
  if (!ref) return res.send_error(ref.error());
  bool all_tags = false;
  if (!tag.empty()) {
    if (tag.rfind("sha256:", 0) == 0) {
      ref->digest = tag;
    } else {
      if (!image::is_valid_tag(tag)) return res.send_error(400, "invalid tag format: \"" + tag + "\"");
      ref->tag = tag;
    }
  } else if (ref->tag.empty() && ref->digest.empty()) {
    all_tags = true;  // the API's way of asking for docker pull -a
  }
  image::PullRequest request{*ref, req.query_value("platform").value_or(""), *auth};
  if (auto p = image::parse_platform(request.platform); !p) return res.send_error(p.error());
  JsonStream out(res);
  sdk::Context& ctx = req.ctx();  // cancelled when the client hangs up
  auto progress = [&](const json::object& m) { out.send(m); };
  if (all_tags) {
    auto s = puller->pull_all_tags(request, progress, ctx);
    if (!s) return out.fail(s.error());
  } else {
    auto id = puller->pull(request, progress, ctx);
    if (!id) return out.fail(id.error());
  }
  out.finish();
}

// POST /images/{name}/push?tag=, with X-Registry-Auth; no tag pushes every tag of the name.
void images_push(image::ImagePusher* pusher, Request& req, ResponseWriter& res) {
  std::string name = req.param("name");
  if (pusher == nullptr) return res.send_error(501, "push " + name + kNoTransport);
  auto auth = image::parse_registry_auth(req.header("x-registry-auth"));
  if (!auth) return res.send_error(auth.error());
  auto ref = image::parse_normalized(name);
  if (!ref) return res.send_error(ref.error());
  if (!ref->digest.empty()) return res.send_error(400, "cannot push a digest reference: " + name);
  std::string tag = req.query_value("tag").value_or("");
  if (!tag.empty()) {
    if (!image::is_valid_tag(tag)) return res.send_error(400, "invalid tag format: \"" + tag + "\"");
    ref->tag = tag;
  }
  image::PushRequest request{*ref, *auth};
  JsonStream out(res);
  sdk::Context& ctx = req.ctx();
  auto s = pusher->push(request, [&](const json::object& m) { out.send(m); }, ctx);
  if (!s) return out.fail(s.error());
  out.finish();
}

// GET /images/search?term=&limit=&filters=, with X-Registry-Auth: the registry the term names
// (Docker Hub unless it starts with a registry host) asked through the transport.
void images_search(image::ImagePuller* puller, Request& req, ResponseWriter& res) {
  std::string term = req.query_value("term").value_or("");
  auto target = image::split_search_term(term);
  if (!target) return res.send_error(target.error());
  auto limit = image::search_limit(req.query_value("limit").value_or(""));
  if (!limit) return res.send_error(limit.error());
  auto filters = request_filters(req, {"is-automated", "is-official", "stars"});
  if (!filters) return res.send_error(filters.error());
  auto wanted = image::search_filters(*filters);
  if (!wanted) return res.send_error(wanted.error());
  if (puller == nullptr) return res.send_error(501, "search " + term + kNoTransport);
  auto auth = image::parse_registry_auth(req.header("x-registry-auth"));
  if (!auth) return res.send_error(auth.error());
  image::ScopedAuth scoped(*auth);
  std::string host = image::search_host(target->domain);
  sdk::SearchQuery query{host, image::is_insecure_registry(host, puller->options().insecure_registries),
                         target->term, *limit};
  auto found = puller->transport().search(req.ctx(), query);
  if (!found) return res.send_error(found.error());
  json::array out;
  for (auto& r : image::filter_search_results(std::move(*found), *wanted)) {
    out.emplace_back(json::object{{"star_count", r.star_count},
                                  {"is_official", r.is_official},
                                  {"name", r.name},
                                  {"is_automated", r.is_automated},
                                  {"description", r.description}});
  }
  res.send_json(200, out);
}

void register_distribution_routes(Router& router, image::ImagePuller* puller,
                                  image::ImagePusher* pusher) {
  router.add("GET", "/images/search", [puller](Request& req, ResponseWriter& res) {
    images_search(puller, req, res);
  });
  router.add("POST", "/images/{name*}/push", [pusher](Request& req, ResponseWriter& res) {
    images_push(pusher, req, res);
  });
  router.add("POST", "/auth", [puller](Request& req, ResponseWriter& res) {
    auto body = req.read_json();
    if (!body) return res.send_error(body.error());
    if (!body->is_object()) return res.send_error(400, "the body must be a JSON object");
    const auto& o = body->get_object();
    image::AuthConfig auth;
    auth.username = json_fields::str(o, "username");
    auth.password = json_fields::str(o, "password");
    auth.identity_token = json_fields::str(o, "identitytoken");
    auth.server_address = json_fields::str(o, "serveraddress");
    std::string server = auth.server_address;
    if (puller == nullptr) return res.send_error(501, "login to " + server + kNoTransport);
    for (const char* scheme : {"https://", "http://"}) {
      if (server.rfind(scheme, 0) == 0) server.erase(0, std::string_view(scheme).size());
    }
    if (auto slash = server.find('/'); slash != std::string::npos) server.resize(slash);
    if (server.empty() || server == "index.docker.io") server = "docker.io";
    std::string host = image::registry_host(server);
    bool insecure = image::is_insecure_registry(host, puller->options().insecure_registries);
    sdk::Context& ctx = req.ctx();
    auto result = puller->transport().login(ctx, (insecure ? "http://" : "") + host, auth.credentials());
    if (!result) {
      // The user name is fine to log; the password never is.
      logging::get("image")->info("login to {} as {} failed", host, auth.username);
      if (result.error().code == ErrorCode::kPermissionDenied) {
        return res.send_error(401, result.error().message);
      }
      return res.send_error(result.error());
    }
    res.send_json(200, json::object{{"Status", "Login Succeeded"},
                                    {"IdentityToken", result->identity_token}});
  });
}

}  // namespace berth::core::api
