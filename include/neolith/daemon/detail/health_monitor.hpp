// The figures behind a daemon's NodeHealth: the machine's CPU and memory use sampled from /proc
// (periodically, by whoever calls `sample()`), the daemon's recent mean response time, and the
// thresholds that make the status.
#ifndef NEOLITH_DAEMON_DETAIL_HEALTH_MONITOR_HPP
#define NEOLITH_DAEMON_DETAIL_HEALTH_MONITOR_HPP

#include <neolith/daemon/daemon_options.hpp>
#include <neolith/protocol/types.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

namespace neolith::detail {

/// Aggregate CPU times from the first line of /proc/stat.
struct cpu_times {
  std::uint64_t busy = 0;
  std::uint64_t total = 0;
};

/// Parses the "cpu ..." line of /proc/stat.
std::optional<cpu_times> parse_proc_stat(std::string_view text);
/// Memory use in percent from /proc/meminfo: (MemTotal - MemAvailable) / MemTotal.
std::optional<double> parse_proc_meminfo(std::string_view text);

/// The status for the given figures.
node_status classify_health(const health_thresholds& t, double cpu, double memory,
                            std::size_t active_sessions, std::size_t max_sessions,
                            double response_ms) noexcept;

/// Samples the machine (thread-safe).
class machine_sampler {
 public:
  machine_sampler();
  /// Reads /proc/stat and /proc/meminfo; CPU use is the busy share since the previous sample.
  void sample();
  double cpu_usage() const;
  double memory_usage() const;

 private:
  std::mutex mu_;  // sample() against sample(); the figures are read without it
  std::optional<cpu_times> last_;
  std::atomic<double> cpu_{0};     // every get_health reads them: no lock on that path
  std::atomic<double> memory_{0};
};

/// The mean of the most recent response times (thread-safe).
class response_times {
 public:
  void record(std::chrono::steady_clock::duration d);
  /// Milliseconds; 0 before any request.
  double mean_ms() const;

 private:
  static constexpr std::size_t window = 256;
  std::mutex mu_;  // record() against record()
  std::array<double, window> ring_{};
  std::size_t count_ = 0;
  std::size_t next_ = 0;
  double sum_ = 0;
  std::atomic<double> mean_{0};  // kept by record(): every get_health reads it, no lock
};

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_HEALTH_MONITOR_HPP
