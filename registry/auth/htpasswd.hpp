// Users and password hashes from an Apache htpasswd file, as Debian's apache2-utils writes it
// with `htpasswd -B` (bcrypt, "$2y$"); SHA-crypt ("$5$", "$6$") is accepted too. Checked with
// libcrypt's crypt_r, so no password is ever stored or logged in clear.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::registry::auth {

class Htpasswd {
 public:
  // Errors name the file and line, and say to use `htpasswd -B` for other hash kinds.
  static Result<Htpasswd> load(const std::string& path);
  static Result<Htpasswd> parse(std::string_view text, const std::string& source);

  bool verify(const std::string& user, const std::string& password) const;
  size_t size() const { return hashes_.size(); }

 private:
  std::map<std::string, std::string> hashes_;
};

}  // namespace berth::registry::auth
