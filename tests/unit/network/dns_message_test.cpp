#include "core/network/dns_message.hpp"

#include <gtest/gtest.h>

using namespace berth::core::network;

namespace {

// A query as `nslookup web` sends it: id 0x1234, RD, one question web IN A.
std::string query(const std::string& name, uint16_t type) {
  std::string q{"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<char>(dot - start));
    q += name.substr(start, dot - start);
    start = dot + 1;
  }
  q.push_back(0);
  q.push_back(static_cast<char>(type >> 8));
  q.push_back(static_cast<char>(type & 255));
  q += std::string("\x00\x01", 2);
  return q;
}

}  // namespace

TEST(DnsMessage, ParsesAQuestion) {
  auto q = dns::parse_query(query("Web.App", dns::kTypeA));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->id, 0x1234);
  EXPECT_EQ(q->name, "web.app");
  EXPECT_EQ(q->type, dns::kTypeA);
  EXPECT_TRUE(q->recursion_desired);
  EXPECT_FALSE(dns::parse_query("short"));
  std::string answer = query("x", 1);
  answer[2] = static_cast<char>(0x81);  // QR set: an answer, not a query
  EXPECT_FALSE(dns::parse_query(answer));
  std::string truncated = query("abc", 1).substr(0, 14);
  EXPECT_FALSE(dns::parse_query(truncated));
}

TEST(DnsMessage, AnswersARecords) {
  auto text = query("web", dns::kTypeA);
  auto q = dns::parse_query(text);
  auto a = dns::answer_a(text, *q, {0x0a4d0001});
  ASSERT_EQ(a.size(), text.size() + 16);
  EXPECT_EQ(a.substr(0, 2), text.substr(0, 2));
  EXPECT_EQ(static_cast<uint8_t>(a[2]) & 0x80, 0x80);  // QR
  EXPECT_EQ(static_cast<uint8_t>(a[7]), 1);            // one answer
  EXPECT_EQ(a.substr(a.size() - 4), std::string("\x0a\x4d\x00\x01", 4));
  auto nx = dns::answer_empty(text, *q, dns::kServFail);
  EXPECT_EQ(static_cast<uint8_t>(nx[3]) & 0x0f, dns::kServFail);
}

TEST(DnsMessage, ReverseNames) {
  EXPECT_EQ(dns::reverse_name_ip("1.0.77.10.in-addr.arpa"), 0x0a4d0001u);
  EXPECT_FALSE(dns::reverse_name_ip("1.0.77.in-addr.arpa"));
  EXPECT_FALSE(dns::reverse_name_ip("5.1.0.77.10.in-addr.arpa"));
  EXPECT_FALSE(dns::reverse_name_ip("web.app"));
  auto text = query("1.0.77.10.in-addr.arpa", dns::kTypePtr);
  auto q = dns::parse_query(text);
  auto a = dns::answer_ptr(text, *q, "web.app");
  EXPECT_NE(a.find(std::string("\x03web\x03""app\x00", 9)), std::string::npos);
}
