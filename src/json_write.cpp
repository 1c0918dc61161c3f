// json_writer (detail/json_write.hpp): JSON text without a tree.
#include <neolith/detail/json_read.hpp>
#include <neolith/detail/json_write.hpp>
#include <neolith/json.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

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

void json_writer::open(char c) {
  separate();
  out_.push_back(c);
  ++depth_;
  has_items_ &= ~(std::uint64_t{1} << depth_);
}

void json_writer::close(char c) {
  out_.push_back(c);
  has_items_ &= ~(std::uint64_t{1} << depth_);
  --depth_;
}

void json_writer::key(std::string_view k) {
  separate();
  put_string(k);
  out_.push_back(':');
  after_key_ = true;
}

void json_writer::string(std::string_view s) {
  separate();
  put_string(s);
}

void json_writer::put_string(std::string_view s) {
  out_.push_back('"');
  std::size_t run = 0;  // the start of the bytes not copied yet
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char e = escapes[static_cast<unsigned char>(s[i])];
    if (e == 0) continue;
    out_.append(s.data() + run, i - run);
    run = i + 1;
    const char pair[2] = {'\\', e};
    out_.append(pair, 2);
    if (e == 'u') {
      static constexpr char hex[] = "0123456789abcdef";
      const auto c = static_cast<unsigned char>(s[i]);
      const char digits[4] = {'0', '0', hex[c >> 4], hex[c & 0xF]};
      out_.append(digits, 4);
    }
  }
  out_.append(s.data() + run, s.size() - run);
  out_.push_back('"');
}

void json_writer::boolean(bool b) {
  separate();
  out_.append(b ? std::string_view("true") : std::string_view("false"));
}

void json_writer::null() {
  separate();
  out_.append("null");
}

void json_writer::integer(std::int64_t i) {
  separate();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, i);
  out_.append(buf, r.ptr);
}

void json_writer::unsigned_integer(std::uint64_t u) {
  separate();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, u);
  out_.append(buf, r.ptr);
}

void json_writer::number(double d) {
  // The integral/non-finite rules are number_to_json's.
  const boost::json::value v = number_to_json(d);
  if (const std::int64_t* i = v.if_int64()) return integer(*i);
  separate();
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());  // shortest round trip
  out_.append(buf, r.ptr);
}

void json_writer::date(timestamp t) {
  separate();
  char buf[timestamp_buffer_size + 2];
  buf[0] = '"';
  const std::size_t n = format_timestamp_to(buf + 1, t);
  buf[n + 1] = '"';
  out_.append(buf, n + 2);
}

void json_writer::json(const boost::json::object& o) {
  if (depth_ >= max_writer_depth) {
    separate();
    out_ += boost::json::serialize(o);
    return;
  }
  begin_object();
  for (const auto& kv : o) {
    key(kv.key());
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
      return number(v.get_double());
    case boost::json::kind::string: return string(v.get_string());
    case boost::json::kind::object: return json(v.get_object());
    case boost::json::kind::array: break;
  }
  const auto& a = v.get_array();
  if (depth_ >= max_writer_depth) {
    separate();
    out_ += boost::json::serialize(a);
    return;
  }
  begin_array();
  for (const auto& x : a) json(x);
  end_array();
}

}  // namespace neolith::detail
