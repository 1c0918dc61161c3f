// The daemon's idempotency window: the recorded answers of spawn/terminate/restore requests,
// keyed by (type, requestId), bounded by age, count and bytes. Not thread-safe (the daemon's
// core serializes mutating requests).
#ifndef NEOLITH_DAEMON_DETAIL_DAEMON_IDEMPOTENCY_HPP
#define NEOLITH_DAEMON_DETAIL_DAEMON_IDEMPOTENCY_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace neolith::detail {

class idempotency_window {
 public:
  using clock = std::chrono::steady_clock;

  idempotency_window(std::chrono::milliseconds window, std::size_t max_entries, std::size_t max_bytes)
      : window_(window), max_entries_(max_entries), max_bytes_(max_bytes) {}

  /// The recorded answer of (type, request_id), if still in the window.
  const std::string* find(std::string_view type, std::string_view request_id, clock::time_point now);

  /// Records an answer (replacing an older one of the same key) and evicts what falls out.
  void record(std::string_view type, std::string_view request_id, std::string answer, clock::time_point now);

  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  struct entry {
    std::string answer;
    clock::time_point when;
    std::uint64_t seq;
  };
  struct order_ref {
    std::string key;
    std::uint64_t seq;
  };
  static std::string key_of(std::string_view type, std::string_view request_id);
  void evict(clock::time_point now);
  void erase(std::unordered_map<std::string, entry>::iterator it);

  std::chrono::milliseconds window_;
  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::unordered_map<std::string, entry> entries_;
  std::deque<order_ref> order_;  ///< oldest first; refs whose seq no longer matches are stale
  std::size_t bytes_ = 0;
  std::uint64_t next_seq_ = 0;
};

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_DAEMON_IDEMPOTENCY_HPP
