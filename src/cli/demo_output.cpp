#include "demo_output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdarg>

namespace neolith::cli::demo {

std::string strf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out;
  if (n > 0) {
    out.resize(static_cast<std::size_t>(n) + 1);
    std::vsnprintf(out.data(), out.size(), fmt, ap);
    out.resize(static_cast<std::size_t>(n));
  }
  va_end(ap);
  return out;
}

// ----- text_table ---------------------------------------------------------------------------

text_table::text_table(std::vector<column> columns) : columns_(std::move(columns)) {}

void text_table::row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string text_table::render(std::size_t indent) const {
  std::vector<std::size_t> width(columns_.size(), 0);
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    width[c] = columns_[c].header.size();
    for (const auto& r : rows_) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  const auto emit_line = [&](const std::vector<std::string>& cells) {
    std::string line(indent, ' ');
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::size_t pad = width[c] - std::min(width[c], cells[c].size());
      if (c > 0) line += "  ";
      if (columns_[c].how == align::right) line.append(pad, ' ');
      line += cells[c];
      if (columns_[c].how == align::left && c + 1 < cells.size()) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  std::vector<std::string> header;
  std::vector<std::string> rule;
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    header.push_back(columns_[c].header);
    rule.emplace_back(width[c], '-');
  }
  emit_line(header);
  emit_line(rule);
  for (const auto& r : rows_) emit_line(r);
  return out;
}

// ----- printer ------------------------------------------------------------------------------

namespace {

std::string header_line(std::string_view title) {
  std::string s = "\n== ";
  s += title;
  s += ' ';
  constexpr std::size_t width = 78;
  if (s.size() < width) s.append(width - s.size(), '=');
  s += '\n';
  return s;
}

}  // namespace

void printer::write(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), out_);
  std::fflush(out_);
}

void printer::section(std::string_view title) {
  if (!quiet_) write(header_line(title));
}

void printer::line(const char* fmt, ...) {
  if (quiet_) return;
  va_list ap;
  va_start(ap, fmt);
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string s;
  if (n > 0) {
    s.resize(static_cast<std::size_t>(n) + 1);
    std::vsnprintf(s.data(), s.size(), fmt, ap);
    s.resize(static_cast<std::size_t>(n));
  }
  va_end(ap);
  s += '\n';
  write(s);
}

void printer::text(std::string_view s) {
  if (!quiet_) write(s);
}

void printer::summary_section(std::string_view title) {
  // In quiet mode the summary is all there is: no leading blank line.
  std::string h = header_line(title);
  if (quiet_) h.erase(0, 1);
  write(h);
}

void printer::summary_text(std::string_view s) { write(s); }

// ----- latency_book -------------------------------------------------------------------------

void latency_book::add(std::string_view operation, duration d) {
  auto it = samples_ms_.find(operation);
  if (it == samples_ms_.end()) {
    order_.emplace_back(operation);
    it = samples_ms_.emplace(std::string(operation), std::vector<double>{}).first;
  }
  it->second.push_back(std::chrono::duration<double, std::milli>(d).count());
}

std::size_t latency_book::count(std::string_view operation) const {
  auto it = samples_ms_.find(operation);
  return it == samples_ms_.end() ? 0 : it->second.size();
}

std::size_t latency_book::total() const {
  std::size_t n = 0;
  for (const auto& [op, v] : samples_ms_) n += v.size();
  return n;
}

double latency_book::percentile_ms(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  // Nearest rank: the smallest sample with at least q of all samples at or below it.
  const double rank = std::ceil(q * static_cast<double>(samples.size()));
  const std::size_t idx = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return samples[std::min(idx, samples.size() - 1)];
}

text_table latency_book::table() const {
  using A = text_table::align;
  text_table t({{"operation", A::left}, {"calls", A::right}, {"p50 ms", A::right}, {"p99 ms", A::right},
                {"max ms", A::right}});
  for (const auto& op : order_) {
    const auto& v = samples_ms_.find(op)->second;
    t.row({op, std::to_string(v.size()), strf("%.3f", percentile_ms(v, 0.50)), strf("%.3f", percentile_ms(v, 0.99)),
           strf("%.3f", *std::max_element(v.begin(), v.end()))});
  }
  return t;
}

}  // namespace neolith::cli::demo
