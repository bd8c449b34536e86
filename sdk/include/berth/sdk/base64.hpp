// RFC 4648 base64 through OpenSSL (EVP_EncodeBlock / EVP_DecodeBlock): X-Docker-Container-Path-Stat,
// X-Registry-Auth and the like. Library berth::sdk_base64 (plugins, which do not need it, never
// link libcrypto).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::sdk {

enum class Base64Alphabet { kStandard, kUrl };  // kUrl: '-' and '_' for '+' and '/'
enum class Base64Padding { kPadded, kNone };     // kNone: JWT segments (RFC 7515)

// base64 of `data`, padded unless told otherwise.
std::string base64_encode(std::string_view data, Base64Alphabet alphabet = Base64Alphabet::kStandard,
                          Base64Padding padding = Base64Padding::kPadded);

// Decodes standard or URL-alphabet base64, padded or not (Docker's clients send both);
// std::nullopt for anything else (a character outside the alphabet, data after the padding).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace berth::sdk
