// permessage-deflate (RFC 7692) on the write side. Beast negotiates the extension and inflates
// what it reads; the messages daemon_node and the daemon write do not go through a Beast write
// operation (they are framed straight into the socket's buffer, ws_frame.hpp), so they are
// compressed here: the agreed parameters are read from the handshake's
// Sec-WebSocket-Extensions, and a message_deflater compresses a message's payload the way
// section 7.2.1 says (raw DEFLATE, the final empty stored block's 00 00 ff ff removed).
#ifndef NEOLITH_TRANSPORT_DETAIL_WS_DEFLATE_HPP
#define NEOLITH_TRANSPORT_DETAIL_WS_DEFLATE_HPP

#include <neolith/transport/detail/ws_frame.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neolith::detail {

/// zlib's memory level for the deflaters (1..9): 4 keeps a compressing connection's state at
/// about 140 KiB with the 32 KiB window (level 8 would double the hash and literal buffers for
/// a few percent on messages of a few KiB).
inline constexpr int deflate_mem_level = 4;

/// The parameters of a permessage-deflate agreement (a server's answer to an offer).
struct deflate_agreement {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;  ///< 8..15
  int client_max_window_bits = 15;  ///< 8..15
};

/// Reads the permessage-deflate element of a Sec-WebSocket-Extensions value sent in a
/// handshake response (RFC 7692 section 7.1; the grammar of RFC 6455 section 9.1: elements
/// separated by commas, parameters by semicolons, values as tokens or quoted strings).
/// nullopt when there is no such element, or when it is malformed: a parameter unknown, given
/// twice, or out of range, a window size without its value (section 7.1.2.2: a response gives
/// one). The caller then does not compress, which is always allowed.
std::optional<deflate_agreement> parse_deflate_agreement(std::string_view extensions);

/// Compresses whole messages for one side of one connection.
class message_deflater {
 public:
  /// `window_bits`: 9..15 (what the agreement allows this side; 8 cannot be honoured: zlib
  /// widens it to 9). `no_context_takeover`: each message is compressed
  /// alone (the agreement asked it of this side). `level` 1..9, `mem_level` 1..9 (zlib's).
  message_deflater(int window_bits, bool no_context_takeover, int level, int mem_level = deflate_mem_level);
  ~message_deflater();
  message_deflater(const message_deflater&) = delete;
  message_deflater& operator=(const message_deflater&) = delete;

  /// The compressed payload of the message `text` (for a frame with RSV1 set), valid until the
  /// next call. With context takeover the compressor keeps the message in its window: every
  /// message given here must then be sent, compressed, in this order.
  std::string_view compress(std::string_view text);

  /// The window this side may use under `agreement` (server or client side), or nullopt when
  /// it cannot compress within it (8 bits, see above).
  static std::optional<int> window_bits_for(const deflate_agreement& agreement, bool server_side) noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
  std::string out_;
  bool no_context_takeover_;
};

/// The deflater of an agreement, for one side: null when the side cannot compress within it.
std::unique_ptr<message_deflater> make_deflater(const deflate_agreement& agreement, bool server_side, int level);

/// The deflater of the agreement a handshake response states in its Sec-WebSocket-Extensions
/// value `extensions` (empty when absent): null when there is none, or one this side cannot
/// read or keep to (it then sends uncompressed, which is always allowed).
std::unique_ptr<message_deflater> deflater_for(std::string_view extensions, bool server_side, int level);

/// What one side compressed: frames, and their messages' bytes before and after.
struct deflate_counters {
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> input_bytes{0};
  std::atomic<std::uint64_t> output_bytes{0};
};

/// Appends the message `text` to `out` as one text frame (masked with `mask` on a client):
/// compressed, and counted in `counters`, when a deflater is given and `text` is at least
/// `threshold` bytes long; as it is otherwise.
void append_compressed_frame(std::vector<char>& out, std::string_view text, std::optional<std::uint32_t> mask,
                             message_deflater& deflater, deflate_counters& counters);
inline void append_text_frame(std::vector<char>& out, std::string_view text, std::optional<std::uint32_t> mask,
                              message_deflater* deflater, std::size_t threshold, deflate_counters& counters) {
  if (deflater && text.size() >= threshold) append_compressed_frame(out, text, mask, *deflater, counters);
  else append_ws_frame(out, ws_opcode::text, text, mask);
}

}  // namespace neolith::detail

#endif  // NEOLITH_TRANSPORT_DETAIL_WS_DEFLATE_HPP
