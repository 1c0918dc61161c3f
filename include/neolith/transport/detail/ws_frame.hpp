// Serializes one unfragmented WebSocket data frame (RFC 6455 section 5.2) straight into a
// write buffer: what daemon_node and the daemon use to put their JSON messages on a
// corked_stream without a Beast write operation per message (Beast still reads, and writes
// its own control frames - pong, close - through the same corked_stream, in order).
#ifndef NEOLITH_TRANSPORT_DETAIL_WS_FRAME_HPP
#define NEOLITH_TRANSPORT_DETAIL_WS_FRAME_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace neolith::detail {

/// The opcodes of data frames.
enum class ws_opcode : std::uint8_t { text = 0x1, binary = 0x2 };

/// The size of the frame header for a payload of `n` bytes.
constexpr std::size_t ws_header_size(std::size_t n, bool masked) noexcept {
  return (n < 126 ? 2 : n < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/// Appends a final (FIN) frame carrying `payload` to `out`. A client passes a non-zero
/// `mask` (the masking key, RFC 6455 section 5.3): the payload is written masked; a server
/// passes none. `compressed`: the payload is a permessage-deflate message (RSV1 set, RFC 7692
/// section 6); RSV2 and RSV3 are zero.
inline void append_ws_frame(std::vector<char>& out, ws_opcode op, std::string_view payload,
                            std::optional<std::uint32_t> mask, bool compressed = false) {
  const std::size_t n = payload.size();
  const std::size_t start = out.size();
  out.resize(start + ws_header_size(n, mask.has_value()) + n);
  auto* p = reinterpret_cast<unsigned char*>(out.data() + start);
  *p++ = static_cast<unsigned char>(0x80 | (compressed ? 0x40 : 0x00) | static_cast<std::uint8_t>(op));
  const unsigned char mask_bit = mask ? 0x80 : 0x00;
  if (n < 126) {
    *p++ = static_cast<unsigned char>(mask_bit | n);
  } else if (n < 65536) {
    *p++ = static_cast<unsigned char>(mask_bit | 126);
    *p++ = static_cast<unsigned char>(n >> 8);
    *p++ = static_cast<unsigned char>(n);
  } else {
    *p++ = static_cast<unsigned char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) *p++ = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> shift);
  }
  if (!mask) {
    if (n) std::memcpy(p, payload.data(), n);
    return;
  }
  // The key goes out in network order; payload byte i is XORed with key byte i % 4.
  const unsigned char key[4] = {static_cast<unsigned char>(*mask >> 24), static_cast<unsigned char>(*mask >> 16),
                                static_cast<unsigned char>(*mask >> 8), static_cast<unsigned char>(*mask)};
  std::memcpy(p, key, 4);
  p += 4;
  const auto* src = reinterpret_cast<const unsigned char*>(payload.data());
  std::size_t i = 0;
  // Eight bytes at a time with the key repeated twice, then the tail.
  std::uint64_t key8;
  unsigned char key8_bytes[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  std::memcpy(&key8, key8_bytes, 8);
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, src + i, 8);
    v ^= key8;
    std::memcpy(p + i, &v, 8);
  }
  for (; i < n; ++i) p[i] = src[i] ^ key[i % 4];
}

}  // namespace neolith::detail

#endif  // NEOLITH_TRANSPORT_DETAIL_WS_FRAME_HPP
