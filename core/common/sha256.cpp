#include "core/common/sha256.hpp"

// OpenSSL's direct SHA-256 functions, not EVP: the same assembly (SHA-NI where the CPU has it),
// without initialising OpenSSL 3's provider machinery, which costs berthd about 2 MiB of RSS.
// They are deprecated in OpenSSL 3.0 (Debian 12's), not removed.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <stdexcept>

namespace berth {

struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (SHA256_Init(&impl_->ctx) != 1) throw std::runtime_error("OpenSSL cannot initialise SHA-256");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::string_view data) { SHA256_Update(&impl_->ctx, data.data(), data.size()); }

std::string Sha256::hex_digest() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int len = SHA256_DIGEST_LENGTH;
  SHA256_Final(md, &impl_->ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

bool is_valid_digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  for (char c : digest.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> digest_hex(std::string_view digest) {
  if (!is_valid_digest(digest)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid digest \"" + std::string(digest) + "\": want sha256:<64 hex>");
  }
  return std::string(digest.substr(7));
}

}  // namespace berth
