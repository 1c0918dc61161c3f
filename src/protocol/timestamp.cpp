// Dates as JavaScript writes them (Date.prototype.toISOString) and ISO-8601 parsing.
//
// The calendar arithmetic uses std::chrono's calendar types. Their `year` only spans
// -32767..32767, while JavaScript dates span +-275760 years, so dates are computed through the
// 400-year Gregorian cycle (146097 days): the year is reduced into 2000..2399, converted with
// year_month_day/sys_days, and the whole cycles are added back.
#include <neolith/protocol/detail/json_read.hpp>
#include <neolith/protocol/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace neolith {
namespace {

constexpr std::int64_t ms_per_day = 86'400'000;
constexpr std::int64_t days_per_cycle = 146'097;  // days in 400 Gregorian years
constexpr std::int64_t max_js_ms = 8'640'000'000'000'000;  // JavaScript's Date range: +-1e8 days

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The year 2000 + (y mod 400), which has the same calendar as y, and the cycles in between.
struct reduced_year {
  std::chrono::year year;
  std::int64_t cycles;  // y = year + 400 * cycles
};

constexpr reduced_year reduce(std::int64_t y) noexcept {
  const std::int64_t q = floor_div(y, 400);
  const auto r = static_cast<int>(y - q * 400);
  return {std::chrono::year{2000 + r}, q - 5};
}

bool valid_date(std::int64_t y, unsigned m, unsigned d) noexcept {
  const auto ry = reduce(y);
  return (ry.year / std::chrono::month{m} / std::chrono::day{d}).ok();
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  const auto ry = reduce(y);
  const std::chrono::sys_days sd{ry.year / std::chrono::month{m} / std::chrono::day{d}};
  return sd.time_since_epoch().count() + ry.cycles * days_per_cycle;
}

struct civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

civil civil_from_days(std::int64_t days) noexcept {
  const std::int64_t q = floor_div(days, days_per_cycle);
  const std::int64_t rem = days - q * days_per_cycle;  // 0 .. 146096: 1970-01-01 .. 2369-12-31
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{rem}}};
  return {static_cast<int>(ymd.year()) + 400 * q, static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day())};
}

// Writes `v` with at least `width` digits; returns the end.
char* put_digits(char* p, std::uint64_t v, int width) noexcept {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n < width) tmp[n++] = '0';
  while (n > 0) *p++ = tmp[--n];
  return p;
}

// Writes the `Width` last digits of `v` (zero-padded); returns the end.
template <int Width>
char* put_fixed(char* p, std::uint64_t v) noexcept {
  for (int i = Width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + Width;
}

// The calendar conversions (validity, days from a date, a date from days) are most of what a
// date costs, and the dates of a stream of messages fall on the same day: each thread keeps the
// last day it read and the last it wrote.

// Whether y-m-d is a date, and its days since the epoch; the last answer is kept.
bool day_number(std::int64_t y, unsigned m, unsigned d, std::int64_t& days) noexcept {
  struct memo {
    std::int64_t y = 1970;
    unsigned m = 1, d = 1;
    bool valid = true;
    std::int64_t days = 0;
  };
  thread_local memo last;
  if (y != last.y || m != last.m || d != last.d) {
    const bool valid = valid_date(y, m, d);
    last = memo{y, m, d, valid, valid ? days_from_civil(y, m, d) : 0};
  }
  days = last.days;
  return last.valid;
}

// Writes the date of `days` ("2026-11-29T", or "+010000-01-01T"); returns the end. The last
// one written is kept.
char* put_day(char* p, std::int64_t days) noexcept {
  struct memo {
    bool known = false;
    std::int64_t days = 0;
    std::uint8_t size = 0;
    char text[24] = {};
  };
  thread_local memo last;
  if (!last.known || last.days != days) {
    const civil d = civil_from_days(days);
    char* q = last.text;
    if (d.year >= 0 && d.year <= 9999) {
      q = put_fixed<4>(q, static_cast<std::uint64_t>(d.year));
    } else {
      *q++ = d.year < 0 ? '-' : '+';
      const std::uint64_t magnitude =
          d.year < 0 ? 0 - static_cast<std::uint64_t>(d.year) : static_cast<std::uint64_t>(d.year);
      q = put_digits(q, magnitude, 6);
    }
    *q++ = '-';
    q = put_fixed<2>(q, d.month);
    *q++ = '-';
    q = put_fixed<2>(q, d.day);
    *q++ = 'T';
    last.known = true;
    last.days = days;
    last.size = static_cast<std::uint8_t>(q - last.text);
  }
  std::memcpy(p, last.text, last.size);
  return p + last.size;
}

// A small cursor over the text being parsed.
struct cursor {
  std::string_view s;
  std::size_t i = 0;

  bool done() const noexcept { return i == s.size(); }
  char peek() const noexcept { return i < s.size() ? s[i] : '\0'; }
  bool eat(char c) noexcept {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
  // Exactly n digits.
  bool digits(int n, std::int64_t& out) noexcept {
    if (s.size() - i < static_cast<std::size_t>(n)) return false;
    std::int64_t v = 0;
    for (int k = 0; k < n; ++k) {
      const char c = s[i + static_cast<std::size_t>(k)];
      if (!is_digit(c)) return false;
      v = v * 10 + (c - '0');
    }
    i += static_cast<std::size_t>(n);
    out = v;
    return true;
  }
};

// The canonical form, "YYYY-MM-DDTHH:MM:SS.mmmZ" (what JavaScript and we write), in one
// pass; false for anything else (then the general reading below decides).
bool parse_canonical(std::string_view t, std::int64_t& out) noexcept {
  if (t.size() != 24 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
      t[19] != '.' || t[23] != 'Z')
    return false;
  bool ok = true;
  const auto num = [&](std::size_t at, int n) {
    std::int64_t v = 0;
    for (int k = 0; k < n; ++k) {
      const auto d = static_cast<unsigned>(t[at + static_cast<std::size_t>(k)] - '0');
      ok &= d <= 9;
      v = v * 10 + static_cast<std::int64_t>(d);
    }
    return v;
  };
  const std::int64_t year = num(0, 4), month = num(5, 2), day = num(8, 2), hour = num(11, 2), minute = num(14, 2),
                     second = num(17, 2), millis = num(20, 3);
  if (!ok || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return false;
  std::int64_t days = 0;
  if (!day_number(year, static_cast<unsigned>(month), static_cast<unsigned>(day), days)) return false;
  out = days * ms_per_day + hour * 3'600'000 + minute * 60'000 + second * 1000 + millis;
  return true;
}

// Parses `text` into milliseconds since the epoch; false when it is not a valid date.
bool parse_millis(std::string_view text, std::int64_t& out) noexcept {
  if (parse_canonical(text, out)) return true;
  cursor c{text};
  std::int64_t year = 0;
  if (c.peek() == '+' || c.peek() == '-') {
    const bool negative = c.peek() == '-';
    ++c.i;
    if (!c.digits(6, year)) return false;
    if (negative) {
      if (year == 0) return false;  // "-000000" is not allowed (ECMA-262)
      year = -year;
    }
  } else if (!c.digits(4, year)) {
    return false;
  }
  std::int64_t month = 0, day = 0;
  if (!c.eat('-') || !c.digits(2, month) || !c.eat('-') || !c.digits(2, day)) return false;
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  std::int64_t days = 0;
  if (!day_number(year, static_cast<unsigned>(month), static_cast<unsigned>(day), days)) return false;

  std::int64_t hour = 0, minute = 0, second = 0, millis = 0, offset_minutes = 0;
  if (!c.done()) {
    if (!(c.eat('T') || c.eat('t') || c.eat(' '))) return false;
    if (!c.digits(2, hour) || !c.eat(':') || !c.digits(2, minute)) return false;
    bool fraction_zero = true;
    if (c.eat(':')) {
      if (!c.digits(2, second)) return false;
      if (c.peek() == '.' || c.peek() == ',') {
        ++c.i;
        int n = 0;
        while (cursor::is_digit(c.peek())) {
          const int d = c.peek() - '0';
          if (n < 3) millis = millis * 10 + d;
          if (d != 0) fraction_zero = false;
          ++n;
          ++c.i;
        }
        if (n == 0) return false;
        for (int k = n; k < 3; ++k) millis *= 10;
      }
    }
    // The zone is required after a time (a time without one would be local time).
    if (c.eat('Z') || c.eat('z')) {
      // UTC
    } else if (c.peek() == '+' || c.peek() == '-') {
      const std::int64_t sign = c.peek() == '-' ? -1 : 1;
      ++c.i;
      std::int64_t oh = 0, om = 0;
      if (!c.digits(2, oh)) return false;
      if (c.eat(':')) {
        if (!c.digits(2, om)) return false;
      } else if (!c.done()) {
        if (!c.digits(2, om)) return false;
      }
      if (oh > 23 || om > 59) return false;
      offset_minutes = sign * (oh * 60 + om);
    } else {
      return false;
    }
    if (!c.done()) return false;
    if (minute > 59 || second > 59) return false;
    if (hour > 24 || (hour == 24 && (minute != 0 || second != 0 || !fraction_zero))) return false;
  }
  const std::int64_t ms = days * ms_per_day + hour * 3'600'000 + minute * 60'000 + second * 1000 +
                          millis - offset_minutes * 60'000;
  if (ms > max_js_ms || ms < -max_js_ms) return false;
  out = ms;
  return true;
}

}  // namespace

namespace detail {

std::size_t format_timestamp_to(char* buf, timestamp t) noexcept {
  const std::int64_t ms = t.time_since_epoch().count();
  // Floor division without overflow, even for the extremes of int64.
  std::int64_t days = ms / ms_per_day;
  std::int64_t in_day = ms % ms_per_day;
  if (in_day < 0) {
    in_day += ms_per_day;
    --days;
  }
  char* p = put_day(buf, days);
  p = put_fixed<2>(p, static_cast<std::uint64_t>(in_day / 3'600'000));
  *p++ = ':';
  p = put_fixed<2>(p, static_cast<std::uint64_t>(in_day / 60'000 % 60));
  *p++ = ':';
  p = put_fixed<2>(p, static_cast<std::uint64_t>(in_day / 1000 % 60));
  *p++ = '.';
  p = put_fixed<3>(p, static_cast<std::uint64_t>(in_day % 1000));
  *p++ = 'Z';
  return static_cast<std::size_t>(p - buf);
}

result<void> read(const json_value& v, timestamp& out) {
  const boost::json::string* s = v.if_string();
  if (s == nullptr) return type_error("an ISO-8601 date string", v);
  std::int64_t ms = 0;
  if (!parse_millis(*s, ms)) return leaf_error(error::invalid_date, quoted(*s) + " is not a valid ISO-8601 date");
  out = timestamp{std::chrono::milliseconds{ms}};
  return outcome::success();
}

result<void> read_date_or_millis(const json_value& v, timestamp& out) {
  if (v.is_string()) return read(v, out);
  if (!v.is_number()) return type_error("a date (ISO-8601 string or milliseconds)", v);
  std::int64_t ms = 0;
  auto r = read(v, ms);
  if (!r) return r;
  if (ms > max_js_ms || ms < -max_js_ms) {
    return leaf_error(error::number_out_of_range, "a date must be within +-8.64e15 ms of the epoch");
  }
  out = timestamp{std::chrono::milliseconds{ms}};
  return outcome::success();
}

}  // namespace detail

std::string format_timestamp(timestamp t) {
  char buf[detail::timestamp_buffer_size];
  return std::string(buf, detail::format_timestamp_to(buf, t));
}

result<timestamp> parse_timestamp(std::string_view text) {
  std::int64_t ms = 0;
  if (!parse_millis(text, ms)) {
    return error_info(error::invalid_date, detail::quoted(text) + " is not a valid ISO-8601 date");
  }
  return timestamp{std::chrono::milliseconds{ms}};
}

}  // namespace neolith
