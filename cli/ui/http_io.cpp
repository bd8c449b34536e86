#include "cli/ui/http_io.hpp"

#include <sys/socket.h>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <cctype>
#include <stdexcept>

#include "cli/util/socket_io.hpp"

namespace berth::cli::ui {

namespace http = boost::beast::http;

std::string RequestHead::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

std::optional<RequestHead> read_request_head(int fd) {
  constexpr size_t kMaxHead = 64 * 1024;
  std::string data;
  size_t end = std::string::npos;
  char buf[8192];
  while ((end = data.find("\r\n\r\n")) == std::string::npos) {
    if (data.size() > kMaxHead) throw std::runtime_error("request head over 64 KiB");
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    data.append(buf, static_cast<size_t>(n));
  }
  http::request_parser<http::empty_body> parser;
  parser.skip(true);  // the head only: the body is relayed, not parsed
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data.data(), end + 4), ec);
  if (ec || !parser.is_header_done()) return std::nullopt;
  const auto& msg = parser.get();
  RequestHead head;
  head.method = std::string(msg.method_string());
  head.target = std::string(msg.target());
  size_t q = head.target.find('?');
  head.path = head.target.substr(0, q);
  head.query = q == std::string::npos ? "" : head.target.substr(q + 1);
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    head.headers[name] = std::string(field.value());
  }
  if (!head.header("transfer-encoding").empty())
    throw std::runtime_error("chunked request bodies are not accepted; send Content-Length");
  if (auto cl = head.header("content-length"); !cl.empty()) {
    try {
      head.content_length = std::stoull(cl);
    } catch (const std::exception&) {
      throw std::runtime_error("bad Content-Length");
    }
  }
  head.leftover = data.substr(end + 4);
  return head;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string query_param(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string part = query.substr(pos, amp - pos);
    if (part.rfind(name + "=", 0) == 0) {
      std::string raw = part.substr(name.size() + 1), out;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '+') {
          out += ' ';
        } else if (raw[i] == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 &&
                   hex_value(raw[i + 2]) >= 0) {
          out += static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2]));
          i += 2;
        } else {
          out += raw[i];
        }
      }
      return out;
    }
    pos = amp + 1;
  }
  return "";
}

bool write_response(int fd, int status, const std::string& content_type, const std::string& body,
                    const std::map<std::string, std::string>& extra_headers) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                     std::string(http::obsolete_reason(static_cast<http::status>(status))) + "\r\n";
  if (!content_type.empty()) head += "Content-Type: " + content_type + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  head += "Connection: close\r\nX-Content-Type-Options: nosniff\r\n";
  for (const auto& [k, v] : extra_headers) head += k + ": " + v + "\r\n";
  head += "\r\n";
  return send_all(fd, head.data(), head.size()) && send_all(fd, body.data(), body.size());
}

}  // namespace berth::cli::ui
