#include "cli/util/reference.hpp"

#include <algorithm>
#include <cctype>

namespace berth::cli {

namespace {

bool valid_path_component(const std::string& c) {
  if (c.empty()) return false;
  for (char ch : c) {
    if (!(std::islower(static_cast<unsigned char>(ch)) ||
          std::isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-'))
      return false;
  }
  return std::isalnum(static_cast<unsigned char>(c.front())) &&
         std::isalnum(static_cast<unsigned char>(c.back()));
}

bool valid_tag(const std::string& t) {
  if (t.empty() || t.size() > 128) return false;
  if (!(std::isalnum(static_cast<unsigned char>(t[0])) || t[0] == '_')) return false;
  for (char ch : t)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-'))
      return false;
  return true;
}

}  // namespace

bool is_full_image_id(const std::string& text) {
  std::string s = text.starts_with("sha256:") ? text.substr(7) : text;
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::string leading_domain(const std::string& name, bool upper_is_host) {
  auto slash = name.find('/');
  if (slash == std::string::npos) return "";
  std::string first = name.substr(0, slash);
  bool upper = std::any_of(first.begin(), first.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
  if (first.find_first_of(".:") != std::string::npos || first == "localhost" || (upper_is_host && upper)) return first;
  return "";
}

bool Reference::parse(const std::string& text, Reference* out) {
  Reference r;
  std::string s = text;
  if (auto at = s.find('@'); at != std::string::npos) {
    r.digest = s.substr(at + 1);
    s = s.substr(0, at);
    if (r.digest.find(':') == std::string::npos) return false;
  }
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = s.substr(colon + 1);
    s = s.substr(0, colon);
    if (!valid_tag(r.tag)) return false;
  }
  if (s.empty()) return false;
  if (std::string host = leading_domain(s, true); !host.empty()) {
    r.domain = host;
    r.path = s.substr(host.size() + 1);
  } else {
    r.domain = "docker.io";
    r.path = s;
  }
  if (r.domain == "index.docker.io") r.domain = "docker.io";
  if (r.domain == "docker.io" && r.path.find('/') == std::string::npos) r.path = "library/" + r.path;
  size_t start = 0;
  while (true) {
    size_t next = r.path.find('/', start);
    std::string comp = r.path.substr(start, next == std::string::npos ? std::string::npos
                                                                      : next - start);
    // Components allow separators "." "_" "__" "-"+ between alphanumerics.
    if (!valid_path_component(comp)) return false;
    if (next == std::string::npos) break;
    start = next + 1;
  }
  *out = r;
  return true;
}

std::string Reference::familiar_name() const {
  if (domain == "docker.io") {
    if (path.starts_with("library/") && path.find('/', 8) == std::string::npos)
      return path.substr(8);
    return path;
  }
  return domain + "/" + path;
}

std::string Reference::familiar_string() const {
  std::string s = familiar_name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

}  // namespace berth::cli
