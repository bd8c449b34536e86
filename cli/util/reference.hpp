#pragma once

#include <string>

namespace berth::cli {

// A docker image reference split the way distribution/reference does it:
// [domain/]path[:tag][@digest]. Normalisation adds docker.io and library/ like the docker CLI.
struct Reference {
  std::string domain;  // "docker.io", "127.0.0.1:5000"
  std::string path;    // "library/busybox", "cap/bb"
  std::string tag;     // empty if none
  std::string digest;  // "sha256:..." if any

  // Parses and normalises; false if the text is not a valid reference (upper case, bad chars).
  static bool parse(const std::string& text, Reference* out);

  std::string name() const { return domain + "/" + path; }  // fully qualified repository
  std::string familiar_name() const;                        // busybox, cap/bb, 127.0.0.1:5000/x
  std::string familiar_string() const;  // familiar name + ":tag" / "@digest"
};

// The registry host that starts a repository name ("host[:port]/rest"): its first component when
// a "/" follows it and it has a dot or a colon or is "localhost" (with `upper_is_host`, also when
// it has an upper-case letter, as distribution's reference grammar decides); "" for Docker Hub.
std::string leading_domain(const std::string& name, bool upper_is_host);

// True if the text is a 64-hex image ID (optionally "sha256:"-prefixed).
bool is_full_image_id(const std::string& text);

}  // namespace berth::cli
