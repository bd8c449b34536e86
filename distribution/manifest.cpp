#include "distribution/manifest.hpp"

#include <boost/json/parse.hpp>

#include "distribution/media_types.hpp"

namespace berth::distribution {
namespace json = boost::json;
namespace {

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

// The media type without parameters ("; charset=utf-8"), trimmed.
std::string_view bare_media_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  return type;
}

std::string string_field(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

Result<std::vector<Descriptor>> descriptor_list(const json::object& body, std::string_view key) {
  std::vector<Descriptor> out;
  const json::value* list = body.if_contains(key);
  if (!list) return out;
  if (!list->is_array()) return invalid("\"" + std::string(key) + "\" must be an array");
  size_t index = 0;
  for (const auto& item : list->get_array()) {
    auto descriptor = parse_descriptor(item);
    if (!descriptor) {
      return std::move(descriptor)
          .error()
          .wrap(std::string(key) + "[" + std::to_string(index) + "]");
    }
    out.push_back(std::move(*descriptor));
    ++index;
  }
  return out;
}

}  // namespace

Result<Descriptor> parse_descriptor(const json::value& value) {
  if (!value.is_object()) return invalid("a descriptor must be an object");
  const auto& object = value.get_object();
  Descriptor d;
  d.media_type = string_field(object, "mediaType");
  if (d.media_type.empty()) return invalid("descriptor has no mediaType");
  auto digest = parse_digest(string_field(object, "digest"));
  if (!digest) return std::move(digest).error().wrap("descriptor digest");
  d.digest = std::move(*digest);
  const json::value* size = object.if_contains("size");
  if (!size || !(size->is_int64() || size->is_uint64()) ||
      (size->is_int64() && size->get_int64() < 0)) {
    return invalid("descriptor size must be a non-negative integer");
  }
  d.size = size->is_int64() ? size->get_int64() : static_cast<int64_t>(size->get_uint64());
  d.artifact_type = string_field(object, "artifactType");
  if (const json::value* a = object.if_contains("annotations"); a && a->is_object()) {
    d.annotations = a->get_object();
  }
  return d;
}

json::object descriptor_json(const Descriptor& d) {
  json::object out;
  out["mediaType"] = d.media_type;
  out["digest"] = d.digest.string();
  out["size"] = d.size;
  if (!d.artifact_type.empty()) out["artifactType"] = d.artifact_type;
  if (!d.annotations.empty()) out["annotations"] = d.annotations;
  return out;
}

bool Manifest::is_index() const { return media_type::is_index(media_type); }

std::string Manifest::referrer_artifact_type() const {
  if (!artifact_type.empty()) return artifact_type;
  if (config) return config->media_type;
  return {};
}

std::vector<Descriptor> Manifest::required_blobs() const {
  std::vector<Descriptor> out;
  if (config) out.push_back(*config);
  for (const auto& layer : layers) {
    if (layer.media_type == media_type::kDockerForeignLayer ||
        layer.media_type.starts_with(media_type::kOciNondistributablePrefix)) {
      continue;
    }
    out.push_back(layer);
  }
  return out;
}

std::string sniff_manifest_media_type(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::string(media_type::kOciManifest);
  const auto& object = v.get_object();
  std::string type = string_field(object, "mediaType");
  if (!type.empty()) return type;
  if (object.contains("manifests")) return std::string(media_type::kOciIndex);
  return std::string(media_type::kOciManifest);
}

Result<Manifest> parse_manifest(std::string_view body, std::string_view content_type) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return invalid("manifest is not valid JSON: " + ec.message());
  if (!v.is_object()) return invalid("manifest must be a JSON object");
  const auto& object = v.get_object();

  const json::value* schema = object.if_contains("schemaVersion");
  if (!schema || !schema->is_int64() || schema->get_int64() != 2) {
    return invalid("manifest schemaVersion must be 2 (schema 1 manifests are not supported)");
  }
  Manifest m;
  std::string body_type = string_field(object, "mediaType");
  std::string_view header_type = bare_media_type(content_type);
  if (!header_type.empty() && media_type::is_manifest(header_type)) {
    if (!body_type.empty() && body_type != header_type) {
      return invalid("manifest mediaType \"" + body_type + "\" does not match Content-Type \"" +
                     std::string(header_type) + "\"");
    }
    m.media_type = std::string(header_type);
  } else if (!body_type.empty()) {
    m.media_type = body_type;
  } else {
    m.media_type = object.contains("manifests") ? std::string(media_type::kOciIndex)
                                                : std::string(media_type::kOciManifest);
  }
  if (!media_type::is_manifest(m.media_type)) {
    return invalid("unsupported manifest media type \"" + m.media_type + "\"");
  }

  if (m.is_index()) {
    auto manifests = descriptor_list(object, "manifests");
    if (!manifests) return std::move(manifests).error();
    if (!object.contains("manifests")) return invalid("an index needs \"manifests\"");
    m.manifests = std::move(*manifests);
  } else {
    const json::value* config = object.if_contains("config");
    if (!config) return invalid("an image manifest needs \"config\"");
    auto parsed = parse_descriptor(*config);
    if (!parsed) return std::move(parsed).error().wrap("config");
    m.config = std::move(*parsed);
    auto layers = descriptor_list(object, "layers");
    if (!layers) return std::move(layers).error();
    m.layers = std::move(*layers);
  }
  if (const json::value* subject = object.if_contains("subject")) {
    auto parsed = parse_descriptor(*subject);
    if (!parsed) return std::move(parsed).error().wrap("subject");
    m.subject = std::move(*parsed);
  }
  m.artifact_type = string_field(object, "artifactType");
  if (const json::value* a = object.if_contains("annotations"); a && a->is_object()) {
    m.annotations = a->get_object();
  }
  return m;
}

}  // namespace berth::distribution
