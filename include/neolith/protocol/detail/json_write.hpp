// json_writer: writes JSON text straight into a std::string, without building a tree.
//
// The encoder's hot path (every request of the client, every answer of the daemon) used to
// build a Boost.JSON object, then serialize it: more than half of the daemon's instructions per
// answer went there (object slots, duplicate-key checks, string copies into the arena, the
// serializer's own state machine). The writer appends the text directly:
//
// - strings are escaped as Boost.JSON's serializer escapes them (`"`, `\`, and the control
//   characters as \b \f \n \r \t or \u00XX; everything else, UTF-8 included, is copied);
//   invalid UTF-8 is the encoder's concern (it replaces it once, over the whole text);
// - numbers: integers as integers; doubles as `number_to_json` decides (integral values that
//   fit in int64 as integers, non-finite values as 0), the rest in the shortest form that
//   reads back to the same double (`std::to_chars`, as JavaScript's `String(n)` does) instead of
//   Boost 1.81's "1.25E1";
// - dates as JavaScript's `toISOString()`;
// - free-form `boost::json` values (metadata, scratchpads, snapshots) element by element,
//   kept as they are: a double stays a double ("2.0", "-0.0", read back as doubles), and a
//   non-finite one is null (as JSON.stringify).
//
// Commas and colons are the writer's business: callers only open and close containers, name
// keys and write values. The writer keeps one bit per nesting level, 64 in all (the codec's
// own types use 6): a free-form value nested deeper goes through Boost.JSON's serializer in
// one piece.
#ifndef NEOLITH_PROTOCOL_DETAIL_JSON_WRITE_HPP
#define NEOLITH_PROTOCOL_DETAIL_JSON_WRITE_HPP

#include <neolith/protocol/types.hpp>

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace neolith::detail {

/// A key written as is: a string literal with nothing to escape (checked at compile time).
/// The codec's own field names are all such literals; they skip the escape scan.
class json_key {
 public:
  template <std::size_t N>
  consteval json_key(const char (&text)[N]) : text_(text, N - 1) {  // NOLINT: implicit by design
    for (char c : text_) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') throw "a json_key needs escaping";
    }
  }
  constexpr std::string_view view() const noexcept { return text_; }

 private:
  std::string_view text_;
};

class json_writer {
 public:
  /// Appends to `out`. The text is complete once the writer is destroyed (it writes into
  /// `out`'s spare capacity and trims `out` at the end).
  explicit json_writer(std::string& out) noexcept : out_(out), pos_(out.size()) {}
  ~json_writer() { out_.resize(pos_); }
  json_writer(const json_writer&) = delete;
  json_writer& operator=(const json_writer&) = delete;

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  /// The key of the next member (the value comes with the next call): one of the codec's
  /// field names, or any text (escaped as needed).
  void key(json_key k) {
    // Inline: with the literal's length known where it is written, the copy is a few moves.
    separate();
    const std::string_view s = k.view();  // checked at compile time: nothing to escape
    char* p = room(s.size() + 3);
    p[0] = '"';
    std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    p[s.size() + 2] = ':';
    pos_ += s.size() + 3;
    after_key_ = true;
  }
  void escaped_key(std::string_view k);

  void string(std::string_view s);
  void boolean(bool b);
  void integer(std::int64_t i);
  void unsigned_integer(std::uint64_t u);
  void number(double d);
  void null();
  void date(timestamp t);
  void json(const boost::json::value& v);
  void json(const boost::json::object& o);

  // A member in one call.
  void member(json_key k, std::string_view s) { key(k), string(s); }
  void member(json_key k, const char* s) { key(k), string(s); }
  void member(json_key k, bool b) { key(k), boolean(b); }
  void member(json_key k, std::int64_t i) { key(k), integer(i); }
  void member(json_key k, double d) { key(k), number(d); }
  void member(json_key k, timestamp t) { key(k), date(t); }
  void member(json_key k, const boost::json::object& o) { key(k), json(o); }

 private:
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ > 0 && (has_items_ >> depth_ & 1U) != 0) put(',');
    has_items_ |= std::uint64_t{1} << depth_;
  }
  void open(char c);
  void close(char c);
  void put_string(std::string_view s, char after);
  void put_quoted(std::string_view s, char after);
  bool put_millis(double d);
  void free_form_double(double d);
  void put_value_text(std::string_view text);  // a value already written as JSON text

  /// Room for `n` more characters at the write position.
  char* room(std::size_t n) {
    if (out_.size() - pos_ < n) grow(n);
    return out_.data() + pos_;
  }
  void grow(std::size_t n);
  void put(char c) {
    *room(1) = c;
    ++pos_;
  }
  void put(const char* p, std::size_t n);

  std::string& out_;
  std::size_t pos_;              // the end of the text; out_ beyond it is scratch
  std::uint64_t has_items_ = 0;  // bit d: the container at depth d has an element already
  unsigned depth_ = 0;
  bool after_key_ = false;
};

// The wire types, written as protocol-v1.md names their fields (json.cpp).
void write_json(json_writer& w, const node_health& x);
void write_json(json_writer& w, const node_capabilities& x);
void write_json(json_writer& w, const task& x);
void write_json(json_writer& w, const memory_entry& x);
void write_json(json_writer& w, const memory_context& x);
void write_json(json_writer& w, const session_metrics& x);
void write_json(json_writer& w, const session& x);
void write_json(json_writer& w, const session_spawn_request& x);
void write_json(json_writer& w, const serialization_metadata& x);
void write_json(json_writer& w, const serialized_session& x);

/// A member whose value is one of the wire types.
template <class T>
void write_member(json_writer& w, json_key k, const T& x) {
  w.key(k);
  write_json(w, x);
}

/// Parses JSON text into a value (in `sp`'s storage), reading doubles exactly (std::from_chars,
/// where Boost 1.81 can be one unit in the last place off). For text this library wrote: an
/// invalid text, or one nested deeper than `parse_exact_max_depth`, gives null.
inline constexpr std::size_t parse_exact_max_depth = 1024;
boost::json::value parse_exact(std::string_view text, boost::json::storage_ptr sp);

}  // namespace neolith::detail

#endif  // NEOLITH_PROTOCOL_DETAIL_JSON_WRITE_HPP
