#include <neolith/transport/detail/ws_deflate.hpp>

#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/beast/zlib/error.hpp>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace neolith::detail {

namespace zlib = boost::beast::zlib;

namespace {

bool is_tchar(char c) noexcept {
  // RFC 7230 section 3.2.6: any VCHAR except delimiters.
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

/// A cursor over a header value.
struct cursor {
  std::string_view s;
  std::size_t i = 0;

  bool done() const noexcept { return i >= s.size(); }
  char peek() const noexcept { return s[i]; }
  void skip_space() noexcept {
    while (!done() && is_space(s[i])) ++i;
  }
  bool eat(char c) noexcept {
    skip_space();
    if (done() || s[i] != c) return false;
    ++i;
    return true;
  }
  /// A token (empty when there is none here).
  std::string_view token() noexcept {
    skip_space();
    const std::size_t b = i;
    while (!done() && is_tchar(s[i])) ++i;
    return s.substr(b, i - b);
  }
  /// A token or a quoted string (its content unescaped into `out`); false when malformed.
  bool value(std::string& out) {
    skip_space();
    out.clear();
    if (done()) return false;
    if (s[i] != '"') {
      const auto t = token();
      out.assign(t);
      return !t.empty();
    }
    ++i;
    while (!done()) {
      const char c = s[i++];
      if (c == '"') return true;
      if (c == '\\') {
        if (done()) return false;
        out.push_back(s[i++]);
      } else {
        out.push_back(c);
      }
    }
    return false;  // no closing quote
  }
  /// Skips to just after the next top-level `stop` (or to the end), honouring quoted strings.
  void skip_past(char stop) noexcept {
    bool quoted = false;
    while (!done()) {
      const char c = s[i++];
      if (quoted) {
        if (c == '\\' && !done()) ++i;
        else if (c == '"') quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (c == stop) {
        return;
      }
    }
  }
};

bool equals_nocase(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

/// 8..15 written without leading zeros (RFC 7692 section 7.1.2.1).
std::optional<int> window_bits(std::string_view v) noexcept {
  if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return v[0] - '0';
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
  return std::nullopt;
}

/// The parameters of one permessage-deflate element, the cursor just after its name.
std::optional<deflate_agreement> read_parameters(cursor& c) {
  deflate_agreement a;
  bool seen[4] = {false, false, false, false};
  std::string value;
  for (;;) {
    c.skip_space();
    if (c.done() || c.peek() == ',') return a;
    if (!c.eat(';')) return std::nullopt;
    const auto name = c.token();
    if (name.empty()) return std::nullopt;
    bool has_value = false;
    if (c.eat('=')) {
      if (!c.value(value)) return std::nullopt;
      has_value = true;
    }
    int which = -1;
    if (equals_nocase(name, "server_no_context_takeover")) which = 0;
    else if (equals_nocase(name, "client_no_context_takeover")) which = 1;
    else if (equals_nocase(name, "server_max_window_bits")) which = 2;
    else if (equals_nocase(name, "client_max_window_bits")) which = 3;
    if (which < 0 || seen[which]) return std::nullopt;  // unknown, or given twice
    seen[which] = true;
    if (which < 2) {
      if (has_value) return std::nullopt;
      (which == 0 ? a.server_no_context_takeover : a.client_no_context_takeover) = true;
      continue;
    }
    if (!has_value) return std::nullopt;  // a response always gives the size
    const auto bits = window_bits(value);
    if (!bits) return std::nullopt;
    (which == 2 ? a.server_max_window_bits : a.client_max_window_bits) = *bits;
  }
}

}  // namespace

std::optional<deflate_agreement> parse_deflate_agreement(std::string_view extensions) {
  cursor c{extensions};
  while (!c.done()) {
    const auto name = c.token();
    if (equals_nocase(name, "permessage-deflate")) return read_parameters(c);
    c.skip_past(',');  // another extension (or an empty element): not ours
  }
  return std::nullopt;
}

struct message_deflater::state {
  zlib::deflate_stream stream;
};

message_deflater::message_deflater(int window_bits, bool no_context_takeover, int level, int mem_level)
    : state_(std::make_unique<state>()), no_context_takeover_(no_context_takeover) {
  state_->stream.reset(std::clamp(level, 1, 9), std::clamp(window_bits, 9, 15), std::clamp(mem_level, 1, 9),
                       zlib::Strategy::normal);
}

message_deflater::~message_deflater() = default;

std::string_view message_deflater::compress(std::string_view text) {
  std::string& out = out_;
  // Raw DEFLATE ended by a sync flush, whose empty stored block (00 00 ff ff) is then removed
  // (RFC 7692 section 7.2.1); the receiver appends it back before inflating.
  out.resize(std::max<std::size_t>(64, text.size() / 2 + 64));
  zlib::z_params zs;
  zs.next_in = text.data();
  zs.avail_in = text.size();
  std::size_t produced = 0;
  for (;;) {
    zs.next_out = out.data() + produced;
    zs.avail_out = out.size() - produced;
    boost::system::error_code ec;
    state_->stream.write(zs, zlib::Flush::sync, ec);
    produced = out.size() - zs.avail_out;
    // need_buffers: nothing more to do (the flush was complete); anything else cannot happen
    // with valid settings.
    assert(!ec || ec == zlib::error::need_buffers);
    if (zs.avail_in == 0 && zs.avail_out != 0) break;
    out.resize(out.size() * 2);
  }
  assert(produced >= 4 && std::memcmp(out.data() + produced - 4, "\x00\x00\xff\xff", 4) == 0);
  if (no_context_takeover_) state_->stream.reset();  // keeps its buffers
  return std::string_view(out.data(), produced - 4);
}

std::optional<int> message_deflater::window_bits_for(const deflate_agreement& agreement, bool server_side) noexcept {
  const int bits = server_side ? agreement.server_max_window_bits : agreement.client_max_window_bits;
  if (bits < 9) return std::nullopt;
  return bits;
}

std::unique_ptr<message_deflater> make_deflater(const deflate_agreement& agreement, bool server_side, int level) {
  const auto bits = message_deflater::window_bits_for(agreement, server_side);
  if (!bits) return nullptr;
  const bool fresh = server_side ? agreement.server_no_context_takeover : agreement.client_no_context_takeover;
  return std::make_unique<message_deflater>(*bits, fresh, level);
}

std::unique_ptr<message_deflater> deflater_for(std::string_view extensions, bool server_side, int level) {
  const auto agreed = parse_deflate_agreement(extensions);
  return agreed ? make_deflater(*agreed, server_side, level) : nullptr;
}

void append_compressed_frame(std::vector<char>& out, std::string_view text, std::optional<std::uint32_t> mask,
                             message_deflater& deflater, deflate_counters& counters) {
  const std::string_view packed = deflater.compress(text);
  append_ws_frame(out, ws_opcode::text, packed, mask, true);
  counters.frames.fetch_add(1, std::memory_order_relaxed);
  counters.input_bytes.fetch_add(text.size(), std::memory_order_relaxed);
  counters.output_bytes.fetch_add(packed.size(), std::memory_order_relaxed);
}

}  // namespace neolith::detail
