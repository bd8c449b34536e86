// RFC 6455 framing for the terminal's websocket, pure so it is unit-tested: the handshake's
// accept key, server frames (never masked), and an incremental decoder of client frames
// (always masked). Only what a terminal needs: text, binary, ping/pong and close; fragmented
// messages are reassembled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::cli::ui::ws {

enum Opcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string accept_key(std::string_view client_key);

// One unfragmented, unmasked frame.
std::string encode_frame(Opcode opcode, std::string_view payload);

struct Message {
  Opcode opcode;
  std::string payload;
};

class Decoder {
 public:
  // Largest message accepted (a terminal's keystrokes and resizes are small).
  explicit Decoder(size_t max_message = 1 << 20) : max_message_(max_message) {}
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole message, or nullopt until more bytes arrive. Throws std::runtime_error on a
  // protocol violation (an unmasked client frame, a message over the limit, a bad opcode).
  std::optional<Message> next();

 private:
  std::string buffer_;
  std::string partial_;  // a fragmented message so far
  std::optional<Opcode> partial_opcode_;
  size_t max_message_;
};

}  // namespace berth::cli::ui::ws
