// Option parsing shared by the subcommands of `neolith`: a usage error (exit 2, one line on
// stderr), range-checked numbers, the bearer token file, and a cursor over the arguments that
// takes an option's value from the next argument or after '=' (`--listen=127.0.0.1:0`).
#ifndef NEOLITH_CLI_CLI_OPTIONS_HPP
#define NEOLITH_CLI_CLI_OPTIONS_HPP

#include "commands.hpp"

#include <neolith/daemon/detail/daemon_auth.hpp>
#include <neolith/protocol/types.hpp>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace neolith::cli {

/// Bad usage: the command prints `message` on one line and exits with 2.
struct usage_error {
  std::string message;
};

/// The integer `v` for option `opt`, within [min, max]; a usage_error otherwise.
template <class T>
T parse_number(std::string_view opt, std::string_view v, T min, T max) {
  T out{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || p != v.data() + v.size() || out < min || out > max)
    throw usage_error{std::string(opt) + ": expected an integer from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", got '" + std::string(v) + "'"};
  return out;
}

/// A number of milliseconds from `min` to a year.
inline std::chrono::milliseconds parse_ms(std::string_view opt, std::string_view v, long long min) {
  return std::chrono::milliseconds(parse_number<long long>(opt, v, min, 24LL * 3600 * 1000 * 365));
}

/// A decimal number from 0 to 1 ("0", "0.25", "1").
inline double parse_fraction(std::string_view opt, std::string_view v) {
  double out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, std::chars_format::fixed);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || !(out >= 0.0 && out <= 1.0))
    throw usage_error{std::string(opt) + ": expected a number from 0 to 1, got '" + std::string(v) + "'"};
  return out;
}

/// A session type by its wire name ("claude-code", "claude-flow", "ruflo").
inline session_type parse_type(std::string_view opt, std::string_view v) {
  auto t = parse_session_type(v);
  if (!t) throw usage_error{std::string(opt) + ": unknown session type '" + std::string(v) + "' (claude-code, claude-flow, ruflo)"};
  return *t;
}

/// The text of file `path` ("-": all of stdin); a usage_error naming `what` when it cannot be
/// read (missing, a directory, a read error) or is larger than `max_bytes`.
std::string read_input_file(std::string_view what, const std::string& path, std::size_t max_bytes);

/// The bearer token held in `path` ("-": stdin): the file's content without its trailing
/// newline. One non-empty line of at most 64 KiB; never echoed in errors.
inline std::string read_token_file(const std::string& path) {
  const std::string content = read_input_file("--token-file", path, 64 * 1024);
  std::string token(detail::token_from_file_content(content));
  if (token.empty()) throw usage_error{"--token-file: '" + path + "' holds no token"};
  if (token.find_first_of("\r\n") != std::string::npos)
    throw usage_error{"--token-file: '" + path + "' holds more than one line"};
  return token;
}

/// Walks the arguments one by one. For an argument "--name=value", `name()` is "--name" and
/// `value()` gives "value"; for "--name", `value()` takes the next argument.
class arg_cursor {
 public:
  explicit arg_cursor(args a) noexcept : args_(a) {}

  /// Moves to the next argument; false when there is none.
  bool next() {
    if (pos_ + 1 >= static_cast<std::ptrdiff_t>(args_.size())) {
      pos_ = static_cast<std::ptrdiff_t>(args_.size());
      return false;
    }
    ++pos_;
    raw_ = args_[static_cast<std::size_t>(pos_)];
    name_ = raw_;
    inline_value_.reset();
    if (raw_.starts_with("--")) {
      if (auto eq = raw_.find('='); eq != std::string_view::npos) {
        inline_value_ = raw_.substr(eq + 1);
        name_ = raw_.substr(0, eq);
      }
    }
    return true;
  }

  /// The argument as given.
  std::string_view raw() const noexcept { return raw_; }
  /// The option's name ("--listen" for "--listen=x"), or the argument itself.
  std::string_view name() const noexcept { return name_; }
  /// An option: starts with '-' and is not "-" itself (which names stdin).
  bool is_option() const noexcept { return raw_.size() > 1 && raw_.front() == '-'; }

  /// The option's value: after '=' or the next argument.
  std::string_view value() {
    if (inline_value_) return *inline_value_;
    if (pos_ + 1 >= static_cast<std::ptrdiff_t>(args_.size())) throw usage_error{std::string(name_) + ": missing value"};
    ++pos_;
    return args_[static_cast<std::size_t>(pos_)];
  }

  /// Checks that a flag was given without a value.
  void flag() const {
    if (inline_value_) throw usage_error{std::string(name_) + ": takes no value"};
  }

 private:
  args args_;
  std::ptrdiff_t pos_ = -1;
  std::string_view raw_;
  std::string_view name_;
  std::optional<std::string_view> inline_value_;
};

}  // namespace neolith::cli

#endif  // NEOLITH_CLI_CLI_OPTIONS_HPP
