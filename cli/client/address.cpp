#include "cli/client/address.hpp"

#include "cli/app/errors.hpp"

namespace berth::cli {

Address Address::parse(const std::string& text) {
  Address a;
  a.original = text;
  if (text.starts_with("unix://")) {
    a.kind = Kind::kUnix;
    a.path = text.substr(7);
    if (a.path.empty()) throw StatusError("invalid host address: " + text, 1);
    return a;
  }
  if (text.starts_with("/")) {  // bare socket path, docker accepts it too
    a.kind = Kind::kUnix;
    a.path = text;
    a.original = "unix://" + text;
    return a;
  }
  std::string rest;
  if (text.starts_with("tcp://"))
    rest = text.substr(6);
  else if (text.starts_with("http://"))
    rest = text.substr(7);
  else
    throw StatusError("unable to parse docker host `" + text + "`", 1);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  a.kind = Kind::kTcp;
  // [v6]:port, host:port, host (default port 2375 like docker's plain-TCP default)
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) throw StatusError("invalid host address: " + text, 1);
    a.host = rest.substr(1, close - 1);
    a.port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "";
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    a.host = rest.substr(0, colon);
    a.port = rest.substr(colon + 1);
  } else {
    a.host = rest;
  }
  if (a.host.empty()) a.host = "127.0.0.1";
  if (a.port.empty()) a.port = "2375";
  return a;
}

}  // namespace berth::cli
