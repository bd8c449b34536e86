#include "core/network/dns_message.hpp"

#include <cctype>
#include <charconv>

namespace berth::core::network::dns {
namespace {

uint16_t u16(std::string_view p, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[at]) << 8) | static_cast<uint8_t>(p[at + 1]));
}
void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 255));
}
void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v & 0xffff));
}

// Header and question of the answer: the query's id and question, QR, RD copied, RA, rcode.
std::string header(std::string_view query, const Question& q, uint8_t rcode, uint16_t answers) {
  std::string out;
  put16(out, q.id);
  uint16_t flags = 0x8000 | 0x0080 | (q.recursion_desired ? 0x0100 : 0) | rcode;  // QR, RA, RD
  flags |= 0x0400;  // authoritative for the names it knows
  put16(out, flags);
  put16(out, 1);
  put16(out, answers);
  put16(out, 0);
  put16(out, 0);
  out.append(query.substr(12, q.question_end - 12));
  return out;
}

void encode_name(std::string& out, std::string_view name) {
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    size_t len = std::min<size_t>(dot - start, 63);
    out.push_back(static_cast<char>(len));
    out.append(name.substr(start, len));
    start = dot + 1;
  }
  out.push_back(0);
}

}  // namespace

std::optional<Question> parse_query(std::string_view p) {
  if (p.size() < 12) return std::nullopt;
  Question q;
  q.id = u16(p, 0);
  uint16_t flags = u16(p, 2);
  if ((flags & 0x8000) != 0 || ((flags >> 11) & 0xf) != 0) return std::nullopt;  // not a standard query
  q.recursion_desired = (flags & 0x0100) != 0;
  if (u16(p, 4) != 1) return std::nullopt;
  size_t at = 12;
  while (true) {
    if (at >= p.size()) return std::nullopt;
    auto len = static_cast<uint8_t>(p[at]);
    if (len == 0) {
      ++at;
      break;
    }
    if ((len & 0xc0) != 0 || at + 1 + len > p.size() || q.name.size() + len > 253) return std::nullopt;
    if (!q.name.empty()) q.name.push_back('.');
    for (size_t i = 0; i < len; ++i) {
      q.name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(p[at + 1 + i]))));
    }
    at += 1 + len;
  }
  if (at + 4 > p.size()) return std::nullopt;
  q.type = u16(p, at);
  q.klass = u16(p, at + 2);
  q.question_end = at + 4;
  return q;
}

std::string answer_a(std::string_view query, const Question& q, const std::vector<uint32_t>& ips, uint32_t ttl) {
  std::string out = header(query, q, kNoError, static_cast<uint16_t>(ips.size()));
  for (uint32_t ip : ips) {
    put16(out, 0xc00c);  // the name: a pointer to the question's
    put16(out, kTypeA);
    put16(out, 1);
    put32(out, ttl);
    put16(out, 4);
    put32(out, ip);
  }
  return out;
}

std::string answer_ptr(std::string_view query, const Question& q, const std::string& name, uint32_t ttl) {
  std::string out = header(query, q, kNoError, 1);
  put16(out, 0xc00c);
  put16(out, kTypePtr);
  put16(out, 1);
  put32(out, ttl);
  std::string rdata;
  encode_name(rdata, name);
  put16(out, static_cast<uint16_t>(rdata.size()));
  out += rdata;
  return out;
}

std::string answer_empty(std::string_view query, const Question& q, uint8_t rcode) {
  return header(query, q, rcode, 0);
}

std::optional<uint32_t> reverse_name_ip(std::string_view name) {
  constexpr std::string_view kSuffix = ".in-addr.arpa";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  name.remove_suffix(kSuffix.size());
  uint32_t octets[4];
  int n = 0;
  size_t start = 0;
  size_t dot = 0;
  while (n < 4) {
    dot = name.find('.', start);
    auto part = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    unsigned v = 256;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || end != part.data() + part.size() || v > 255 || part.empty()) return std::nullopt;
    octets[n++] = v;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (n != 4 || dot != std::string_view::npos) return std::nullopt;
  return (octets[3] << 24) | (octets[2] << 16) | (octets[1] << 8) | octets[0];
}

uint16_t packet_id(std::string_view packet) { return packet.size() < 2 ? 0 : u16(packet, 0); }

void set_packet_id(std::string& packet, uint16_t id) {
  if (packet.size() < 2) return;
  packet[0] = static_cast<char>(id >> 8);
  packet[1] = static_cast<char>(id & 255);
}

}  // namespace berth::core::network::dns
