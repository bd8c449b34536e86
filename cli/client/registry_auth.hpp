#pragma once

#include <string>
#include <string_view>

namespace berth::cli {

// base64 is the SDK's (berth/sdk/base64.hpp, OpenSSL's codec).

// X-Registry-Auth value: base64url of the auth config JSON, "e30=" ({}) when there are no
// credentials, as the docker CLI sends it.
std::string encode_registry_auth(const std::string& username = "",
                                 const std::string& password = "",
                                 const std::string& server_address = "");

}  // namespace berth::cli
