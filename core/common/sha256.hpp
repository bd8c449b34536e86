// Incremental SHA-256 (OpenSSL EVP) and digest strings in the "sha256:<64 hex>" form.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  // Lowercase hex of the digest; the object cannot be updated afterwards.
  std::string hex_digest();
  // "sha256:<hex>"
  std::string digest() { return "sha256:" + hex_digest(); }

  static std::string of(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.digest();
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for "sha256:" followed by exactly 64 lowercase hex characters.
bool is_valid_digest(std::string_view digest);

// The hex part of a valid digest, or an kInvalidArgument error naming the bad value.
Result<std::string> digest_hex(std::string_view digest);

}  // namespace berth
