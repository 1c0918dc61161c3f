// json_writer (detail/json_write.hpp): JSON text without a tree.
#include <neolith/protocol/detail/json_read.hpp>
#include <neolith/protocol/detail/json_text.hpp>
#include <neolith/protocol/detail/json_write.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace neolith::detail {
namespace {

// 0: copied as is; otherwise the character after the backslash ('u': \u00XX).
constexpr std::array<char, 256> escapes = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

// Deeper free-form values than this go through Boost.JSON's serializer as one piece (the
// writer's comma bits stop at 64 levels).
constexpr unsigned max_writer_depth = 60;

}  // namespace

void json_writer::grow(std::size_t n) {
  // Size the string to its new capacity (first what the caller reserved: no copy) and write
  // into it; the destructor trims it.
  std::size_t size = std::max<std::size_t>({out_.capacity(), out_.size() * 2, 256});
  while (size - pos_ < n) size *= 2;
  out_.resize(size);
}

void json_writer::put(const char* p, std::size_t n) {
  if (n == 0) return;
  std::memcpy(room(n), p, n);
  pos_ += n;
}

void json_writer::open(char c) {
  separate();
  put(c);
  ++depth_;
  has_items_ &= ~(std::uint64_t{1} << depth_);
}

void json_writer::close(char c) {
  put(c);
  has_items_ &= ~(std::uint64_t{1} << depth_);
  --depth_;
}

void json_writer::escaped_key(std::string_view k) {
  separate();
  put_string(k, ':');
  after_key_ = true;
}

void json_writer::string(std::string_view s) {
  separate();
  put_string(s, '\0');
}

// `s`, which needs no escaping, in quotes, then `after` unless it is NUL.
void json_writer::put_quoted(std::string_view s, char after) {
  const std::size_t tail = after != '\0' ? 1 : 0;
  char* p = room(s.size() + 2 + tail);
  p[0] = '"';
  if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
  p[s.size() + 1] = '"';
  if (tail != 0) p[s.size() + 2] = after;
  pos_ += s.size() + 2 + tail;
}

// The string in quotes, escaped, then `after` unless it is NUL.
void json_writer::put_string(std::string_view s, char after) {
  std::size_t i = plain_json_prefix(s, false);
  if (i == s.size()) return put_quoted(s, after);  // nothing to escape: the common case
  put('"');
  std::size_t run = 0;  // the start of the bytes not copied yet
  for (; i < s.size(); ++i) {
    const char e = escapes[static_cast<unsigned char>(s[i])];
    if (e == 0) continue;
    put(s.data() + run, i - run);
    run = i + 1;
    if (e == 'u') {
      static constexpr char hex[] = "0123456789abcdef";
      const auto c = static_cast<unsigned char>(s[i]);
      const char seq[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
      put(seq, 6);
    } else {
      const char seq[2] = {'\\', e};
      put(seq, 2);
    }
  }
  put(s.data() + run, s.size() - run);
  put('"');
  if (after != '\0') put(after);
}

void json_writer::boolean(bool b) {
  separate();
  if (b) {
    put("true", 4);
  } else {
    put("false", 5);
  }
}

void json_writer::null() {
  separate();
  put("null", 4);
}

void json_writer::integer(std::int64_t i) {
  separate();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, i);
  put(buf, static_cast<std::size_t>(r.ptr - buf));
}

void json_writer::unsigned_integer(std::uint64_t u) {
  separate();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, u);
  put(buf, static_cast<std::size_t>(r.ptr - buf));
}

void json_writer::number(double d) {
  // The integral/non-finite rules are number_to_json's.
  const boost::json::value v = number_to_json(d);
  if (const std::int64_t* i = v.if_int64()) return integer(*i);
  if (d > -1e12 && d < 1e12 && put_millis(d)) return;
  separate();
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());  // shortest round trip
  put(buf, static_cast<std::size_t>(r.ptr - buf));
}

// A value with at most three decimals (the daemon rounds its figures so) written without the
// general shortest-form search: when k / 1000.0 == d for an integer k, the decimal k/1000 reads
// back as d (the division is correctly rounded), and below 1e12, where a double's spacing is
// far under 0.001, no shorter decimal does: the text is the one std::to_chars writes.
bool json_writer::put_millis(double d) {
  const double scaled = d * 1000;
  const auto k = static_cast<std::int64_t>(scaled >= 0 ? scaled + 0.5 : scaled - 0.5);
  if (static_cast<double>(k) / 1000 != d) return false;
  separate();
  const std::uint64_t magnitude = k < 0 ? 0 - static_cast<std::uint64_t>(k) : static_cast<std::uint64_t>(k);
  char buf[32];
  char* p = buf;
  if (k < 0) *p++ = '-';
  p = std::to_chars(p, buf + sizeof buf, magnitude / 1000).ptr;
  unsigned frac = static_cast<unsigned>(magnitude % 1000);  // not 0: integral values went before
  *p++ = '.';
  *p++ = static_cast<char>('0' + frac / 100);
  frac %= 100;
  if (frac != 0) {
    *p++ = static_cast<char>('0' + frac / 10);
    frac %= 10;
    if (frac != 0) *p++ = static_cast<char>('0' + frac);
  }
  put(buf, static_cast<std::size_t>(p - buf));
  return true;
}

// A double of a free-form value stays a double when read back (2.0 as "2.0", -0.0 as "-0.0"):
// such values are kept as they are, so a message survives encode -> decode unchanged.
void json_writer::free_form_double(double d) {
  separate();
  char buf[40];
  char* end = std::to_chars(buf, buf + 32, d).ptr;
  if (std::find_if(buf, end, [](char c) { return c == '.' || c == 'e'; }) == end) {
    *end++ = '.';
    *end++ = '0';
  }
  put(buf, static_cast<std::size_t>(end - buf));
}

void json_writer::date(timestamp t) {
  separate();
  char buf[timestamp_buffer_size + 2];
  buf[0] = '"';
  const std::size_t n = format_timestamp_to(buf + 1, t);
  buf[n + 1] = '"';
  put(buf, n + 2);
}

void json_writer::put_value_text(std::string_view text) {
  separate();
  put(text.data(), text.size());
}

void json_writer::json(const boost::json::object& o) {
  if (depth_ >= max_writer_depth) return put_value_text(boost::json::serialize(o));
  begin_object();
  for (const auto& kv : o) {
    escaped_key(kv.key());
    json(kv.value());
  }
  end_object();
}

void json_writer::json(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return null();
    case boost::json::kind::bool_: return boolean(v.get_bool());
    case boost::json::kind::int64: return integer(v.get_int64());
    case boost::json::kind::uint64: return unsigned_integer(v.get_uint64());
    case boost::json::kind::double_:
      // As JSON.stringify: a non-finite number in a free-form value is null (number fields of
      // the wire types write 0).
      if (!std::isfinite(v.get_double())) return null();
      return free_form_double(v.get_double());
    case boost::json::kind::string: return string(v.get_string());
    case boost::json::kind::object: return json(v.get_object());
    case boost::json::kind::array: break;
  }
  const auto& a = v.get_array();
  if (depth_ >= max_writer_depth) return put_value_text(boost::json::serialize(a));
  begin_array();
  for (const auto& x : a) json(x);
  end_array();
}

}  // namespace neolith::detail
