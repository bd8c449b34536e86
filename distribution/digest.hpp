// Content digests as the distribution spec writes them: "<algorithm>:<lowercase hex>", with the
// registered algorithms sha256 (64 hex) and sha512 (128 hex).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::distribution {

struct Digest {
  std::string algorithm;  // "sha256" or "sha512"
  std::string hex;        // lowercase, 64 or 128 characters

  std::string string() const { return algorithm + ":" + hex; }
  bool operator==(const Digest&) const = default;
};

// Parses "sha256:<64 hex>" or "sha512:<128 hex>". Errors (kInvalidArgument) say what is wrong.
Result<Digest> parse_digest(std::string_view text);

// True when `algorithm` is one this registry can verify.
bool is_supported_algorithm(std::string_view algorithm);

// Incremental hashing with a supported algorithm (sha256 reuses the core's Sha256).
class Digester {
 public:
  // nullopt for an unsupported algorithm.
  static std::optional<Digester> create(std::string_view algorithm);
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  ~Digester();

  void update(std::string_view data);
  // The digest of everything fed; the object cannot be updated afterwards.
  Digest finish();
  const std::string& algorithm() const { return algorithm_; }

  static Digest sha256_of(std::string_view data);

 private:
  struct Impl;
  explicit Digester(std::string algorithm);
  std::string algorithm_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::distribution
