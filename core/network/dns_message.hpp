// The part of DNS the embedded resolver needs (RFC 1035), pure: read a query's question, write
// an answer with A or PTR records, or an empty/error answer. Unit-tested without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::core::network::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint8_t kNoError = 0, kServFail = 2, kNxDomain = 3, kNotImp = 4;

struct Question {
  uint16_t id = 0;
  bool recursion_desired = false;
  std::string name;  // lower case, without the trailing dot
  uint16_t type = 0;
  uint16_t klass = 0;
  size_t question_end = 0;  // offset after the question (the answer section starts there)
};

// A standard query with exactly one question; nullopt for anything else (not answered).
std::optional<Question> parse_query(std::string_view packet);

// The answer to `q` echoing its question: A records (host-order IPv4s) or one PTR name.
std::string answer_a(std::string_view query, const Question& q, const std::vector<uint32_t>& ips, uint32_t ttl = 600);
std::string answer_ptr(std::string_view query, const Question& q, const std::string& name, uint32_t ttl = 600);
// No records, with `rcode` (kNoError: the name exists but has no record of that type).
std::string answer_empty(std::string_view query, const Question& q, uint8_t rcode);

// "4.3.2.1.in-addr.arpa" -> 1.2.3.4 (host order); nullopt for other names.
std::optional<uint32_t> reverse_name_ip(std::string_view name);

uint16_t packet_id(std::string_view packet);
void set_packet_id(std::string& packet, uint16_t id);

}  // namespace berth::core::network::dns
