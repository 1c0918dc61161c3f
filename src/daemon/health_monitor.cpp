#include <neolith/daemon/detail/health_monitor.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace neolith::detail {

namespace {

// istream::read (not istreambuf_iterator, through which libstdc++'s file buffer throws on a
// read error): a failed read is "no sample", never an exception in the sampler's timer.
std::optional<std::string> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) text.append(buf, static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return std::nullopt;
  return text;
}

void skip_spaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}

std::optional<std::uint64_t> next_number(std::string_view& s) {
  skip_spaces(s);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{}) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  return v;
}

double clamp_percent(double v) { return std::isfinite(v) ? std::clamp(v, 0.0, 100.0) : 0.0; }

}  // namespace

std::optional<cpu_times> parse_proc_stat(std::string_view text) {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
  if (!text.starts_with("cpu ")) return std::nullopt;
  std::string_view s = text.substr(4);
  s = s.substr(0, s.find('\n'));
  std::array<std::uint64_t, 8> f{};
  std::size_t n = 0;
  for (; n < f.size(); ++n) {
    auto v = next_number(s);
    if (!v) break;
    f[n] = *v;
  }
  if (n < 4) return std::nullopt;
  // guest times are already included in user/nice.
  const std::uint64_t idle = f[3] + f[4];
  cpu_times t;
  for (std::size_t i = 0; i < n; ++i) t.total += f[i];
  t.busy = t.total - idle;
  return t;
}

std::optional<double> parse_proc_meminfo(std::string_view text) {
  std::optional<std::uint64_t> total, available, free_, buffers, cached;
  while (!text.empty()) {
    std::string_view line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    auto v = next_number(rest);
    if (!v) continue;
    if (key == "MemTotal") total = v;
    else if (key == "MemAvailable") available = v;
    else if (key == "MemFree") free_ = v;
    else if (key == "Buffers") buffers = v;
    else if (key == "Cached") cached = v;
  }
  if (!total || *total == 0) return std::nullopt;
  if (!available) {
    if (!free_) return std::nullopt;
    available = *free_ + buffers.value_or(0) + cached.value_or(0);
  }
  const double used = static_cast<double>(*total - std::min(*total, *available));
  return clamp_percent(100.0 * used / static_cast<double>(*total));
}

node_status classify_health(const health_thresholds& t, double cpu, double memory,
                            std::size_t active_sessions, std::size_t max_sessions,
                            double response_ms) noexcept {
  if (cpu >= t.unhealthy_cpu || memory >= t.unhealthy_memory || response_ms >= t.unhealthy_response_ms)
    return node_status::unhealthy;
  const bool near_capacity =
      max_sessions > 0 &&
      static_cast<double>(active_sessions) >= t.degraded_session_ratio * static_cast<double>(max_sessions);
  if (cpu >= t.degraded_cpu || memory >= t.degraded_memory || response_ms >= t.degraded_response_ms ||
      near_capacity)
    return node_status::degraded;
  return node_status::healthy;
}

machine_sampler::machine_sampler() {
  // The first figures: CPU use averaged since boot, until the next sample has a delta.
  if (auto text = read_file("/proc/stat")) {
    if (auto t = parse_proc_stat(*text)) {
      last_ = t;
      if (t->total > 0) cpu_ = clamp_percent(100.0 * static_cast<double>(t->busy) / static_cast<double>(t->total));
    }
  }
  if (auto text = read_file("/proc/meminfo"))
    if (auto m = parse_proc_meminfo(*text)) memory_ = *m;
}

void machine_sampler::sample() {
  std::optional<cpu_times> t;
  std::optional<double> m;
  if (auto text = read_file("/proc/stat")) t = parse_proc_stat(*text);
  if (auto text = read_file("/proc/meminfo")) m = parse_proc_meminfo(*text);
  std::lock_guard lock(mu_);
  if (t) {
    if (last_ && t->total > last_->total && t->busy >= last_->busy) {
      cpu_ = clamp_percent(100.0 * static_cast<double>(t->busy - last_->busy) /
                           static_cast<double>(t->total - last_->total));
    }
    if (!last_ || t->total > last_->total) last_ = t;
  }
  if (m) memory_ = *m;
}

double machine_sampler::cpu_usage() const { return cpu_.load(std::memory_order_relaxed); }

double machine_sampler::memory_usage() const { return memory_.load(std::memory_order_relaxed); }

void response_times::record(std::chrono::steady_clock::duration d) {
  const double ms = std::chrono::duration<double, std::milli>(d).count();
  std::lock_guard lock(mu_);
  if (count_ == window) sum_ -= ring_[next_];
  else ++count_;
  ring_[next_] = ms;
  sum_ += ms;
  next_ = (next_ + 1) % window;
  // Floating-point drift of the running sum is harmless: clamped at 0.
  mean_.store(std::max(0.0, sum_ / static_cast<double>(count_)), std::memory_order_relaxed);
}

double response_times::mean_ms() const { return mean_.load(std::memory_order_relaxed); }

}  // namespace neolith::detail
