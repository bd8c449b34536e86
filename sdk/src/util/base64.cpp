#include "berth/sdk/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace berth::sdk {

std::string base64_encode(std::string_view data, Base64Alphabet alphabet, Base64Padding padding) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock writes a NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  if (alphabet == Base64Alphabet::kUrl) {
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
  }
  if (padding == Base64Padding::kNone) {
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock takes the standard alphabet in whole quads and counts padding as zero bytes:
  // normalise the alphabet, restore missing padding, then drop the bytes the padding stood for.
  std::string in(text);
  size_t pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char& c = in[i];
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (c == '=') ++pad;
    else if (pad != 0) return std::nullopt;  // data after the padding
  }
  if (pad > 2) return std::nullopt;
  if (in.size() % 4 == 1) return std::nullopt;
  while (in.size() % 4 != 0) {
    in.push_back('=');
    ++pad;
  }
  if (pad > 2) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0 || static_cast<size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace berth::sdk
