// The terminal's websocket framing (RFC 6455).
#include <gtest/gtest.h>

#include "cli/ui/websocket.hpp"

namespace berth::cli::ui::ws {
namespace {

// A client frame: masked, as browsers send them.
std::string client_frame(uint8_t first_byte, std::string_view payload) {
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  std::string f;
  f += static_cast<char>(first_byte);
  if (payload.size() < 126) {
    f += static_cast<char>(0x80 | payload.size());
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  }
  f.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ mask[i % 4]);
  return f;
}

TEST(UiWebsocket, AcceptKeyIsTheRfcExample) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(UiWebsocket, ServerFramesUseTheShortestLength) {
  EXPECT_EQ(encode_frame(kBinary, "hi"), std::string("\x82\x02hi", 4));
  std::string mid = encode_frame(kText, std::string(300, 'x'));
  EXPECT_EQ(static_cast<uint8_t>(mid[1]), 126);
  EXPECT_EQ(mid.size(), 4u + 300u);
  std::string big = encode_frame(kBinary, std::string(70000, 'y'));
  EXPECT_EQ(static_cast<uint8_t>(big[1]), 127);
  EXPECT_EQ(big.size(), 10u + 70000u);
}

TEST(UiWebsocket, DecodesMaskedFramesFedInPieces) {
  Decoder d;
  std::string bytes = client_frame(0x82, "ls -l\r") + client_frame(0x81, std::string(200, 'r'));
  for (char c : bytes.substr(0, 5)) d.feed(std::string_view(&c, 1));
  EXPECT_FALSE(d.next());
  d.feed(bytes.substr(5));
  auto a = d.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->opcode, kBinary);
  EXPECT_EQ(a->payload, "ls -l\r");
  auto b = d.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->opcode, kText);
  EXPECT_EQ(b->payload, std::string(200, 'r'));
  EXPECT_FALSE(d.next());
}

TEST(UiWebsocket, ReassemblesFragmentsAroundAPing) {
  Decoder d;
  d.feed(client_frame(0x01, "{\"resi") + client_frame(0x89, "p") + client_frame(0x80, "ze\":[1,2]}"));
  auto ping = d.next();
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, kPing);
  auto whole = d.next();
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->opcode, kText);
  EXPECT_EQ(whole->payload, "{\"resize\":[1,2]}");
}

TEST(UiWebsocket, RefusesWhatABrowserNeverSends) {
  Decoder unmasked;
  unmasked.feed(std::string("\x82\x02hi", 4));
  EXPECT_THROW(unmasked.next(), std::runtime_error);
  Decoder too_big(16);
  too_big.feed(client_frame(0x82, std::string(17, 'x')));
  EXPECT_THROW(too_big.next(), std::runtime_error);
  Decoder stray;
  stray.feed(client_frame(0x80, "x"));  // a continuation of nothing
  EXPECT_THROW(stray.next(), std::runtime_error);
  Decoder reserved;
  reserved.feed(client_frame(0xC2, "x"));  // RSV1 without an agreed extension
  EXPECT_THROW(reserved.next(), std::runtime_error);
}

}  // namespace
}  // namespace berth::cli::ui::ws
