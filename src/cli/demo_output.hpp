// `neolith demo`: what it prints. Section headers, aligned tables, printf-style lines that
// `--quiet` silences, and the latency book behind the final summary.
#ifndef NEOLITH_CLI_DEMO_OUTPUT_HPP
#define NEOLITH_CLI_DEMO_OUTPUT_HPP

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace neolith::cli::demo {

/// printf into a std::string.
std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/// A table whose columns are as wide as their widest cell.
class text_table {
 public:
  enum class align { left, right };
  struct column {
    std::string header;
    align how = align::left;
  };

  explicit text_table(std::vector<column> columns);
  /// A row; missing cells are empty, extra cells are ignored.
  void row(std::vector<std::string> cells);
  /// The header, a rule under it and every row, each line starting with `indent` spaces.
  std::string render(std::size_t indent = 2) const;
  std::size_t rows() const noexcept { return rows_.size(); }

 private:
  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// Where the demo writes. Everything but `summary_*` is silent with `quiet`.
class printer {
 public:
  printer(std::FILE* out, bool quiet) : out_(out), quiet_(quiet) {}

  bool quiet() const noexcept { return quiet_; }
  /// A blank line and "== title ====...".
  void section(std::string_view title);
  /// One line (a newline is added).
  void line(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  /// Text as is (e.g. a rendered table).
  void text(std::string_view s);
  /// Like `section` / `text`, but printed with `quiet` too.
  void summary_section(std::string_view title);
  void summary_text(std::string_view s);

 private:
  void write(std::string_view s);
  std::FILE* out_;
  bool quiet_;
};

/// Durations of calls, by operation, and their percentiles.
class latency_book {
 public:
  using duration = std::chrono::steady_clock::duration;

  void add(std::string_view operation, duration d);
  std::size_t count(std::string_view operation) const;
  std::size_t total() const;

  /// The nearest-rank percentile `q` (0 < q <= 1) of `samples`, in milliseconds; 0 when empty.
  static double percentile_ms(std::vector<double> samples, double q);

  /// operation | calls | p50 | p99 | max (milliseconds), in the order operations first appeared.
  text_table table() const;

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::vector<double>, std::less<>> samples_ms_;
};

}  // namespace neolith::cli::demo

#endif  // NEOLITH_CLI_DEMO_OUTPUT_HPP
