// Small helpers of the benchmarks: percentiles, CPU affinity, resident memory, a heap
// counter fed by the benchmark's allocation hook (every C allocation function), and a JSON
// writer that prints numbers the way people read them (Boost.JSON 1.81 writes 12.5 as 1.25E1).
#ifndef NEOLITH_BENCH_UTIL_HPP
#define NEOLITH_BENCH_UTIL_HPP

#include <sched.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using sclock = std::chrono::steady_clock;

inline std::int64_t ns_between(sclock::time_point a, sclock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// ----- Heap counters (the hook lives in the benchmark's .cpp) ---------------------------

/// Every heap allocation of the process (malloc, aligned_alloc, operator new...) counts here
/// (relaxed atomics: a few ns per allocation).
struct heap_counters {
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::int64_t> live_bytes{0};
  std::atomic<std::int64_t> live_blocks{0};
};
inline heap_counters& heap() {
  static heap_counters h;
  return h;
}

// ----- Percentiles ------------------------------------------------------------------------

struct latency_summary {
  std::size_t samples = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0, min_us = 0;
};

/// Nearest-rank percentiles of round-trip times in nanoseconds (sorts `ns`).
inline latency_summary summarize(std::vector<std::int64_t>& ns) {
  latency_summary s;
  s.samples = ns.size();
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  const auto rank = [&](double q) {
    auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ns.size())));
    if (k == 0) k = 1;
    return static_cast<double>(ns[std::min(k, ns.size()) - 1]) / 1000.0;
  };
  s.p50_us = rank(0.50);
  s.p90_us = rank(0.90);
  s.p99_us = rank(0.99);
  s.p999_us = rank(0.999);
  s.max_us = static_cast<double>(ns.back()) / 1000.0;
  s.min_us = static_cast<double>(ns.front()) / 1000.0;
  long double sum = 0;
  for (auto v : ns) sum += v;
  s.mean_us = static_cast<double>(sum / ns.size()) / 1000.0;
  return s;
}

// ----- CPU affinity ------------------------------------------------------------------------

/// A set of CPUs; empty means "every CPU of the machine".
struct cpu_set {
  std::vector<int> cpus;
  std::string name() const {
    if (cpus.empty()) return "any";
    std::string s;
    for (int c : cpus) s += (s.empty() ? "" : ",") + std::to_string(c);
    return s;
  }
};

inline int online_cpus() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

/// Pins one thread (a tid; 0: the calling thread) to `set`.
inline bool pin_thread(pid_t tid, const cpu_set& set) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (set.cpus.empty()) {
    for (int c = 0; c < online_cpus(); ++c) CPU_SET(c, &mask);
  } else {
    for (int c : set.cpus) CPU_SET(c, &mask);
  }
  return sched_setaffinity(tid, sizeof mask, &mask) == 0;
}

/// Every thread of process `pid`.
inline std::vector<pid_t> threads_of(pid_t pid) {
  std::vector<pid_t> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
    }
    closedir(d);
  }
  return out;
}

/// Pins every thread of process `pid` (threads made later inherit the creator's mask).
inline bool pin_process(pid_t pid, const cpu_set& set) {
  bool ok = true;
  for (pid_t t : threads_of(pid)) ok = pin_thread(t, set) && ok;
  return ok;
}

// ----- Memory --------------------------------------------------------------------------------

/// Resident memory of a process in KiB (the "Rss:" line of smaps_rollup, else VmRSS).
inline long rss_kib(pid_t pid) {
  const std::string base = "/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid));
  std::ifstream in(base + "/smaps_rollup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Rss:", 0) == 0) return std::atol(line.c_str() + 4);
  }
  std::ifstream st(base + "/status");
  while (std::getline(st, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

/// CPU time (ns) used so far by every thread of process `pid` (schedstat: nanoseconds, unlike
/// the clock ticks of /proc/PID/stat).
inline std::uint64_t cpu_ns(pid_t pid) {
  std::uint64_t total = 0;
  for (pid_t t : threads_of(pid)) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(t) + "/schedstat");
    std::uint64_t ns = 0;
    if (in >> ns) total += ns;
  }
  return total;
}

// ----- Machine -------------------------------------------------------------------------------

inline std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto p = line.find(':');
      return p == std::string::npos ? line : line.substr(p + 2);
    }
  }
  return "unknown";
}

// ----- JSON writer ---------------------------------------------------------------------------

/// A streaming JSON writer: objects, arrays, keys, strings, integers and doubles (printed
/// with up to 4 decimals, no exponent).
class json_writer {
 public:
  json_writer& begin_object() { value_prefix(); out_ += '{'; first_.push_back(true); return *this; }
  json_writer& end_object() { out_ += '}'; first_.pop_back(); return *this; }
  json_writer& begin_array() { value_prefix(); out_ += '['; first_.push_back(true); return *this; }
  json_writer& end_array() { out_ += ']'; first_.pop_back(); return *this; }
  json_writer& key(std::string_view k) {
    comma();
    quote(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  json_writer& value(std::string_view s) { value_prefix(); quote(s); return *this; }
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(bool b) { value_prefix(); out_ += b ? "true" : "false"; return *this; }
  json_writer& value(std::int64_t v) { value_prefix(); out_ += std::to_string(v); return *this; }
  json_writer& value(std::uint64_t v) { value_prefix(); out_ += std::to_string(v); return *this; }
  json_writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  json_writer& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
  json_writer& value(double d) {
    value_prefix();
    if (!std::isfinite(d)) {
      out_ += "null";
      return *this;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4f", d);
    std::string s(buf);
    // Trim trailing zeros ("12.5000" -> "12.5", "3.0000" -> "3").
    if (s.find('.') != std::string::npos) {
      while (!s.empty() && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
    }
    if (s == "-0") s = "0";
    out_ += s;
    return *this;
  }
  template <class T>
  json_writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  const std::string& str() const { return out_; }

 private:
  void comma() {
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  void value_prefix() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    comma();
  }
  void quote(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace bench

#endif  // NEOLITH_BENCH_UTIL_HPP
