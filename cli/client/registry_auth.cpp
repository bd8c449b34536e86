#include "cli/client/registry_auth.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>

#include "berth/sdk/base64.hpp"

namespace berth::cli {

std::string encode_registry_auth(const std::string& username, const std::string& password,
                                 const std::string& server_address) {
  boost::json::object o;
  if (!username.empty()) o["username"] = username;
  if (!password.empty()) o["password"] = password;
  if (!server_address.empty()) o["serveraddress"] = server_address;
  return sdk::base64_encode(boost::json::serialize(o), sdk::Base64Alphabet::kUrl);
}

}  // namespace berth::cli
