#include "registry/auth/htpasswd.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

#include "core/common/fs.hpp"

namespace berth::registry::auth {

Result<Htpasswd> Htpasswd::load(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) {
    return make_error(ErrorCode::kInvalidArgument,
                      "htpasswd file " + path + ": " + text.error().message);
  }
  return parse(*text, path);
}

Result<Htpasswd> Htpasswd::parse(std::string_view text, const std::string& source) {
  Htpasswd out;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    std::string where = source + " line " + std::to_string(line_number);
    if (colon == std::string_view::npos || colon == 0) {
      return make_error(ErrorCode::kInvalidArgument, where + ": want USER:HASH");
    }
    std::string_view hash = line.substr(colon + 1);
    bool supported = hash.starts_with("$2y$") || hash.starts_with("$2b$") ||
                     hash.starts_with("$2a$") || hash.starts_with("$5$") || hash.starts_with("$6$");
    if (!supported) {
      return make_error(ErrorCode::kInvalidArgument,
                        where + ": unsupported hash (MD5 and SHA1 are weak): create the file "
                                "with `htpasswd -B` (bcrypt)");
    }
    out.hashes_[std::string(line.substr(0, colon))] = std::string(hash);
  }
  return out;
}

bool Htpasswd::verify(const std::string& user, const std::string& password) const {
  auto it = hashes_.find(user);
  // An unknown user still costs a hash, so timing does not tell which users exist.
  static const std::string kDummy =
      "$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a";
  const std::string& hash = it == hashes_.end() ? kDummy : it->second;
  auto data = std::make_unique<crypt_data>();
  const char* result = ::crypt_r(password.c_str(), hash.c_str(), data.get());
  if (result == nullptr || result[0] == '*') return false;
  std::string_view computed(result);
  bool equal = computed.size() == hash.size() &&
               CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
  return equal && it != hashes_.end();
}

}  // namespace berth::registry::auth
