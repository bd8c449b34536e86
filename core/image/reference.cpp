#include "core/image/reference.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace berth::core::image {
namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kOfficialRepoPrefix = "library/";
constexpr size_t kNameTotalLengthMax = 255;
constexpr size_t kTagLengthMax = 128;

const std::string kInvalidFormat = "invalid reference format";
const std::string kUppercase = "invalid reference format: repository name must be lowercase";

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | "__" | "-"+
bool valid_path_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < c.size() && !is_lower_alnum(c[i])) ++i;
    std::string_view sep = c.substr(start, i - start);
    bool dashes = std::all_of(sep.begin(), sep.end(), [](char ch) { return ch == '-'; });
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
  }
  return true;
}

bool valid_path(std::string_view path) {
  for (;;) {
    size_t slash = path.find('/');
    if (!valid_path_component(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
  if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
  return std::all_of(c.begin(), c.end(), [](char ch) { return is_alnum(ch) || ch == '-'; });
}

// domain := (domain-name | "[" ipv6 "]") [":" port]
bool valid_domain(std::string_view domain) {
  std::string_view host = domain;
  std::string_view port;
  bool has_port = false;
  if (!domain.empty() && domain.front() == '[') {
    size_t close = domain.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view v6 = domain.substr(1, close - 1);
    if (v6.empty() ||
        !std::all_of(v6.begin(), v6.end(), [](char ch) { return is_hex(ch) || ch == ':'; })) {
      return false;
    }
    std::string_view rest = domain.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    size_t colon = domain.find(':');
    if (colon != std::string_view::npos) {
      host = domain.substr(0, colon);
      port = domain.substr(colon + 1);
      has_port = true;
    }
    for (;;) {
      size_t dot = host.find('.');
      if (!valid_domain_component(host.substr(0, dot))) return false;
      if (dot == std::string_view::npos) break;
      host.remove_prefix(dot + 1);
    }
  }
  if (has_port && (port.empty() || !std::all_of(port.begin(), port.end(), is_digit))) {
    return false;
  }
  return true;
}

// tag := [\w][\w.-]{0,127}
bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > kTagLengthMax || !is_word(tag.front())) return false;
  return std::all_of(tag.begin(), tag.end(),
                     [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

// The reference grammar's digest := algorithm ":" [0-9a-fA-F]{32,}, algorithm components
// [A-Za-z][A-Za-z0-9]* joined by [-_+.].
bool digest_matches_grammar(std::string_view digest) {
  size_t colon = digest.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view algorithm = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);
  if (hex.size() < 32 || !std::all_of(hex.begin(), hex.end(), is_hex)) return false;
  bool at_start = true;
  for (char c : algorithm) {
    if (at_start) {
      if (!std::isalpha(static_cast<unsigned char>(c))) return false;
      at_start = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      at_start = true;
    } else if (!is_alnum(c)) {
      return false;
    }
  }
  return !at_start;
}

Error invalid(const std::string& message) {
  return make_error(ErrorCode::kInvalidArgument, message);
}

// Parses "<path>[:tag][@digest]" under an already split domain. nullopt: the grammar does not
// match (the caller picks the message); an Error: it matches but a value is unacceptable.
std::optional<Result<Reference>> parse_remainder(std::string_view domain,
                                                 std::string_view remainder) {
  if (!valid_domain(domain)) return std::nullopt;
  Reference ref;
  ref.domain = std::string(domain);
  std::string_view rest = remainder;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!digest_matches_grammar(ref.digest)) return std::nullopt;
  }
  if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(ref.tag)) return std::nullopt;
  }
  if (!valid_path(rest)) return std::nullopt;
  ref.path = std::string(rest);
  if (ref.name().size() > kNameTotalLengthMax) {
    return Result<Reference>(invalid("repository name must not be more than 255 characters"));
  }
  if (!ref.digest.empty()) {
    std::string_view algorithm = std::string_view(ref.digest).substr(0, ref.digest.find(':'));
    std::string_view hex = std::string_view(ref.digest).substr(algorithm.size() + 1);
    if (algorithm != "sha256") return Result<Reference>(invalid("unsupported digest algorithm"));
    if (hex.size() != 64) return Result<Reference>(invalid("invalid checksum digest length"));
    if (!std::all_of(hex.begin(), hex.end(), is_lower_hex)) {
      return Result<Reference>(invalid("invalid checksum digest format"));
    }
  }
  return Result<Reference>(std::move(ref));
}

// distribution/reference splitDockerDomain: the first component is a domain only when it looks
// like one (has "." or ":", is "localhost", or has uppercase, which no repository path can).
std::pair<std::string, std::string> split_docker_domain(std::string_view name) {
  std::string domain;
  std::string remainder;
  size_t slash = name.find('/');
  std::string_view first = name.substr(0, slash);
  if (slash == std::string_view::npos || (first.find_first_of(".:") == std::string_view::npos &&
                                          first != "localhost" && !has_upper(first))) {
    domain = kDefaultDomain;
    remainder = name;
  } else {
    domain = first;
    remainder = name.substr(slash + 1);
  }
  if (domain == kLegacyDefaultDomain) domain = kDefaultDomain;
  if (domain == kDefaultDomain && remainder.find('/') == std::string::npos) {
    remainder.insert(0, kOfficialRepoPrefix);
  }
  return {domain, remainder};
}

bool is_hex_run(std::string_view s, size_t min, size_t max) {
  return s.size() >= min && s.size() <= max && std::all_of(s.begin(), s.end(), is_lower_hex);
}

std::string_view strip_sha256(std::string_view s) {
  constexpr std::string_view kPrefix = "sha256:";
  if (s.substr(0, kPrefix.size()) == kPrefix) s.remove_prefix(kPrefix.size());
  return s;
}

}  // namespace

std::string Reference::name() const { return domain + "/" + path; }

std::string Reference::familiar_name() const {
  if (domain != kDefaultDomain) return name();
  std::string_view p = path;
  if (p.substr(0, kOfficialRepoPrefix.size()) == kOfficialRepoPrefix &&
      p.find('/', kOfficialRepoPrefix.size()) == std::string_view::npos) {
    p.remove_prefix(kOfficialRepoPrefix.size());
  }
  return std::string(p);
}

std::string Reference::string() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::familiar_string() const {
  std::string out = familiar_name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

Result<Reference> parse_normalized(std::string_view text) {
  if (is_hex_run(text, 64, 64)) {
    return invalid("invalid repository name (" + std::string(text) +
                   "), cannot specify 64-byte hexadecimal strings");
  }
  auto [domain, remainder] = split_docker_domain(text);
  std::string_view remote_name = std::string_view(remainder).substr(0, remainder.find(':'));
  if (has_upper(remote_name)) return invalid(kUppercase);

  if (auto parsed = parse_remainder(domain, remainder)) return std::move(*parsed);
  // Docker's hint: the same text in lowercase would have been a valid reference.
  auto [lower_domain, lower_remainder] = split_docker_domain(to_lower(text));
  if (auto lowered = parse_remainder(lower_domain, lower_remainder); lowered && *lowered) {
    return invalid(kUppercase);
  }
  return invalid(kInvalidFormat);
}

Result<Reference> parse_normalized_tagged(std::string_view text) {
  auto ref = parse_normalized(text);
  if (ref && ref->tag.empty() && ref->digest.empty()) ref->tag = "latest";
  return ref;
}

bool is_valid_path(std::string_view path) { return valid_path(path); }

bool is_valid_tag(std::string_view tag) { return valid_tag(tag); }

bool is_full_id(std::string_view text) { return is_hex_run(strip_sha256(text), 64, 64); }

bool is_id_prefix(std::string_view text) { return is_hex_run(strip_sha256(text), 1, 64); }

}  // namespace berth::core::image
