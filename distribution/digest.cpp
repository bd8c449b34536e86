#include "distribution/digest.hpp"

// OpenSSL's direct SHA-512 functions, as core/common/sha256.cpp does for SHA-256: no provider
// machinery initialised for one hash.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>
#include <variant>

#include "core/common/sha256.hpp"

namespace berth::distribution {
namespace {

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

size_t hex_length(std::string_view algorithm) {
  if (algorithm == "sha256") return 64;
  if (algorithm == "sha512") return 128;
  return 0;
}

std::string to_hex(const unsigned char* md, size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace

bool is_supported_algorithm(std::string_view algorithm) { return hex_length(algorithm) != 0; }

Result<Digest> parse_digest(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid digest \"" + std::string(text) + "\": want <algorithm>:<hex>");
  }
  std::string_view algorithm = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  size_t want = hex_length(algorithm);
  if (want == 0) {
    return make_error(ErrorCode::kUnsupported, "unsupported digest algorithm \"" +
                                                   std::string(algorithm) +
                                                   "\": use sha256 or sha512");
  }
  if (hex.size() != want || !std::all_of(hex.begin(), hex.end(), is_lower_hex)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid digest \"" + std::string(text) + "\": " + std::string(algorithm) +
                          " wants " + std::to_string(want) + " lowercase hex characters");
  }
  return Digest{std::string(algorithm), std::string(hex)};
}

struct Digester::Impl {
  std::variant<Sha256, SHA512_CTX> state;
};

Digester::Digester(std::string algorithm) : algorithm_(std::move(algorithm)), impl_(std::make_unique<Impl>()) {
  if (algorithm_ == "sha512") {
    SHA512_CTX ctx;
    SHA512_Init(&ctx);
    impl_->state = ctx;
  }
}

Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;
Digester::~Digester() = default;

std::optional<Digester> Digester::create(std::string_view algorithm) {
  if (!is_supported_algorithm(algorithm)) return std::nullopt;
  return Digester(std::string(algorithm));
}

void Digester::update(std::string_view data) {
  if (auto* sha256 = std::get_if<Sha256>(&impl_->state)) {
    sha256->update(data);
  } else {
    SHA512_Update(&std::get<SHA512_CTX>(impl_->state), data.data(), data.size());
  }
}

Digest Digester::finish() {
  if (auto* sha256 = std::get_if<Sha256>(&impl_->state)) return {"sha256", sha256->hex_digest()};
  unsigned char md[SHA512_DIGEST_LENGTH];
  SHA512_Final(md, &std::get<SHA512_CTX>(impl_->state));
  return {"sha512", to_hex(md, sizeof md)};
}

Digest Digester::sha256_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return {"sha256", h.hex_digest()};
}

}  // namespace berth::distribution
