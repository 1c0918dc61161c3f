// Byte-level facts of JSON text shared by the writer (json_write), the one-pass reader
// (fast_decode) and the codec (protocol.cpp): where a string's plain run ends, and the length
// of a well-formed UTF-8 sequence.
#ifndef NEOLITH_PROTOCOL_DETAIL_JSON_TEXT_HPP
#define NEOLITH_PROTOCOL_DETAIL_JSON_TEXT_HPP

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace neolith::detail {

/// The length of the prefix of `s` that a JSON string carries as is: no byte below 0x20, no
/// quote, no backslash (and, when `ascii_only`, no byte of 0x80 or above). Eight bytes at a
/// time; in a word, the lowest flagged byte is the first special one (a borrow runs upwards
/// only), so on little-endian machines the scan lands on it at once.
inline std::size_t plain_json_prefix(std::string_view s, bool ascii_only) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v; };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    // (w - 0x20..) & ~w flags the bytes below 0x20 and never one of 0x80 or above.
    const std::uint64_t stop =
        (((w - ones * 0x20) & ~w) | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | (ascii_only ? w : 0)) &
        highs;
    if (stop != 0) {
      if constexpr (std::endian::native == std::endian::little) return i + (std::countr_zero(stop) >> 3);
      break;  // big-endian: the rest byte by byte
    }
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\' || (ascii_only && c >= 0x80)) break;
  }
  return i;
}

/// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629, Unicode's table
/// 3-7: no overlong form, no surrogate, at most U+10FFFF), or 0 when there is none.
inline std::size_t utf8_sequence(std::string_view s) noexcept {
  if (s.empty()) return 0;
  const auto b = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace neolith::detail

#endif  // NEOLITH_PROTOCOL_DETAIL_JSON_TEXT_HPP
