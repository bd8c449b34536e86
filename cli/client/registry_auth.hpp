#pragma once

#include <string>
#include <string_view>

namespace berth::cli {

// RFC 4648 base64, standard or URL alphabet, padded.
std::string base64_encode(std::string_view data, bool url_alphabet = false);
// Decodes either alphabet, tolerating missing padding; false on invalid input.
bool base64_decode(std::string_view text, std::string* out);

// X-Registry-Auth value: base64url of the auth config JSON, "e30=" ({}) when there are no
// credentials, as the docker CLI sends it.
std::string encode_registry_auth(const std::string& username = "",
                                 const std::string& password = "",
                                 const std::string& server_address = "");

}  // namespace berth::cli
