#include "cli/ui/websocket.hpp"

#include <openssl/sha.h>

#include <stdexcept>

#include "berth/sdk/base64.hpp"

namespace berth::cli::ui::ws {

std::string accept_key(std::string_view client_key) {
  std::string input(client_key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455's fixed GUID
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return sdk::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string encode_frame(Opcode opcode, std::string_view payload) {
  std::string out;
  out += static_cast<char>(0x80 | opcode);  // FIN
  uint64_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  }
  out.append(payload);
  return out;
}

std::optional<Message> Decoder::next() {
  for (;;) {
    if (buffer_.size() < 2) return std::nullopt;
    auto byte = [&](size_t i) { return static_cast<uint8_t>(buffer_[i]); };
    bool fin = byte(0) & 0x80;
    if (byte(0) & 0x70) throw std::runtime_error("websocket: reserved bits set (no extension was agreed)");
    auto opcode = static_cast<Opcode>(byte(0) & 0x0f);
    bool masked = byte(1) & 0x80;
    if (!masked) throw std::runtime_error("websocket: a client frame must be masked");
    uint64_t length = byte(1) & 0x7f;
    size_t header = 2;
    if (length == 126) {
      if (buffer_.size() < 4) return std::nullopt;
      length = (uint64_t{byte(2)} << 8) | byte(3);
      header = 4;
    } else if (length == 127) {
      if (buffer_.size() < 10) return std::nullopt;
      length = 0;
      for (size_t i = 2; i < 10; ++i) length = (length << 8) | byte(i);
      header = 10;
    }
    if (length > max_message_ || partial_.size() + length > max_message_)
      throw std::runtime_error("websocket: message over " + std::to_string(max_message_) + " bytes");
    bool control = opcode >= kClose;
    if (control && (!fin || length > 125)) throw std::runtime_error("websocket: malformed control frame");
    if (opcode != kContinuation && opcode != kText && opcode != kBinary && !control)
      throw std::runtime_error("websocket: unknown opcode " + std::to_string(opcode));
    if (buffer_.size() < header + 4 + length) return std::nullopt;
    const char* mask = buffer_.data() + header;
    std::string payload = buffer_.substr(header + 4, length);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    buffer_.erase(0, header + 4 + length);

    if (control) return Message{opcode, std::move(payload)};
    if (opcode == kContinuation) {
      if (!partial_opcode_) throw std::runtime_error("websocket: continuation without a message");
    } else {
      if (partial_opcode_) throw std::runtime_error("websocket: new message inside a fragmented one");
      partial_opcode_ = opcode;
    }
    partial_ += payload;
    if (!fin) continue;
    Message m{*partial_opcode_, std::move(partial_)};
    partial_.clear();
    partial_opcode_.reset();
    return m;
  }
}

}  // namespace berth::cli::ui::ws
