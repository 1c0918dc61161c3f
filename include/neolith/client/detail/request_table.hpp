// The table of a daemon_node's requests: their states, the send queue, the deadlines and the
// routing of answers by requestId. A plain class: no I/O, no clock of its own (time points are
// passed in), so every transition is unit-tested without sockets or sleeps.
//
// States of a request (see daemon_node.hpp for what the caller sees):
//   queued    waiting to be written (the node is (re)connecting, or the writer is busy);
//   written   handed to the writer; an answer may come;
//   (answered / abandoned / expired: the entry is released at once and its completion handed
//    back to the caller of the table, who runs it.)
// A lost connection turns every `written` request back into `queued`, in front of the queue
// and in submission order, to be re-sent with the same requestId.
//
// Storage is a slab of entries reused across requests (their frame buffers keep their
// capacity), so the steady state allocates nothing here. Every operation is O(1) but the
// deadline heap (O(log n)) and `requeue_written` (O(n log n), once per lost connection).
#ifndef NEOLITH_CLIENT_DETAIL_REQUEST_TABLE_HPP
#define NEOLITH_CLIENT_DETAIL_REQUEST_TABLE_HPP

#include <neolith/core/detail/ring_queue.hpp>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neolith::detail {

enum class request_state : std::uint8_t { free, queued, written };

/// Identifies one request: a slot of the slab and the request's unique sequence number (a
/// slot is reused by later requests; the sequence number tells them apart).
struct request_handle {
  std::uint32_t slot = 0;
  std::uint64_t seq = 0;
  friend bool operator==(const request_handle&, const request_handle&) = default;
};

template <class Completion, class Clock = std::chrono::steady_clock>
class request_table {
 public:
  using time_point = typename Clock::time_point;

  struct entry {
    std::uint64_t seq = 0;
    request_state state = request_state::free;
    int kind = 0;             ///< what answer the request expects (the caller's code)
    bool ever_written = false;  ///< taken by the writer at least once (it may have run)
    time_point deadline{};
    std::string frame;        ///< the encoded request, requestId included
    std::optional<Completion> completion;
  };

  /// `id_prefix` starts every requestId this table makes; make it unique per table (a random
  /// nonce), since a daemon's idempotency window is shared by all of its clients.
  explicit request_table(std::string id_prefix) : prefix_(std::move(id_prefix)) {}

  // ----- Adding and looking up ---------------------------------------------------------

  /// Adds a request in state `queued` at the back of the send queue.
  request_handle add(int kind, time_point deadline, Completion c) {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    entry& e = slots_[slot];
    e.seq = ++last_seq_;
    e.state = request_state::queued;
    e.kind = kind;
    e.ever_written = false;
    e.deadline = deadline;
    e.frame.clear();
    e.completion.emplace(std::move(c));
    const request_handle h{slot, e.seq};
    queue_.push_back(h);
    ++queued_;
    ++live_;
    push_deadline(deadline, h);
    return h;
  }

  /// The entry of `h` if it is still live.
  entry* get(request_handle h) noexcept {
    if (h.slot >= slots_.size()) return nullptr;
    entry& e = slots_[h.slot];
    return (e.state != request_state::free && e.seq == h.seq) ? &e : nullptr;
  }

  /// Writes the requestId of `h` into `out` (appends). Form: "<prefix><slot>.<seq>" in base 36.
  void append_id(request_handle h, std::string& out) const {
    out += prefix_;
    append_base36(h.slot, out);
    out += '.';
    append_base36(h.seq, out);
  }

  std::string id_of(request_handle h) const {
    std::string s;
    append_id(h, s);
    return s;
  }

  /// The live request whose requestId is `id`, if any (an answer to an abandoned request, or
  /// to another client's request, finds nothing).
  std::optional<request_handle> find(std::string_view id) const noexcept {
    if (id.size() <= prefix_.size() || id.substr(0, prefix_.size()) != prefix_) return std::nullopt;
    id.remove_prefix(prefix_.size());
    const auto dot = id.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::uint64_t slot = 0, seq = 0;
    if (!parse_base36(id.substr(0, dot), slot) || !parse_base36(id.substr(dot + 1), seq)) return std::nullopt;
    if (slot >= slots_.size()) return std::nullopt;
    const entry& e = slots_[slot];
    if (e.state == request_state::free || e.seq != seq) return std::nullopt;
    return request_handle{static_cast<std::uint32_t>(slot), seq};
  }

  // ----- Sending -----------------------------------------------------------------------

  /// The oldest queued request, marked `written` (the caller writes its frame now).
  std::optional<request_handle> take_next_to_send() noexcept {
    while (!queue_.empty()) {
      const request_handle h = queue_.front();
      queue_.pop_front();
      entry* e = get(h);
      if (e && e->state == request_state::queued) {
        e->state = request_state::written;
        e->ever_written = true;
        --queued_;
        ++written_;
        return h;
      }
    }
    return std::nullopt;
  }

  /// After a lost connection: every `written` request is `queued` again, ahead of the requests
  /// that were never sent, oldest first. Returns how many were re-queued.
  std::size_t requeue_written() {
    std::vector<request_handle> resend;
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].state == request_state::written) resend.push_back({i, slots_[i].seq});
    }
    std::sort(resend.begin(), resend.end(), [](auto a, auto b) { return a.seq < b.seq; });
    for (auto it = resend.rbegin(); it != resend.rend(); ++it) {
      slots_[it->slot].state = request_state::queued;
      queue_.push_front(*it);
    }
    written_ -= resend.size();
    queued_ += resend.size();
    return resend.size();
  }

  // ----- Ending requests ---------------------------------------------------------------

  /// Releases `h` (answered, cancelled, expired or failed) and hands back its completion,
  /// for the caller to run. nullopt when `h` is no longer live.
  std::optional<Completion> release(request_handle h) {
    entry* e = get(h);
    if (!e) return std::nullopt;
    std::optional<Completion> c = std::move(e->completion);
    e->completion.reset();
    if (e->state == request_state::queued) --queued_;
    else --written_;
    e->state = request_state::free;
    --live_;
    free_.push_back(h.slot);
    maybe_compact();
    return c;
  }

  /// The earliest deadline of a live request, if any.
  std::optional<time_point> next_deadline() {
    drop_stale_deadlines();
    if (heap_.empty()) return std::nullopt;
    return heap_.front().deadline;
  }

  /// The live requests whose deadline is at or before `now`, earliest first (they stay live:
  /// the caller releases them).
  std::vector<request_handle> expired(time_point now) {
    std::vector<request_handle> out;
    drop_stale_deadlines();
    while (!heap_.empty() && heap_.front().deadline <= now) {
      const auto h = heap_.front().handle;
      std::pop_heap(heap_.begin(), heap_.end(), later);
      heap_.pop_back();
      if (get(h)) out.push_back(h);
      drop_stale_deadlines();
    }
    return out;
  }

  /// Every live request, in submission order (for failing them all).
  std::vector<request_handle> all() const {
    std::vector<request_handle> out;
    out.reserve(live_);
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].state != request_state::free) out.push_back({i, slots_[i].seq});
    }
    std::sort(out.begin(), out.end(), [](auto a, auto b) { return a.seq < b.seq; });
    return out;
  }

  /// Every live request in state `queued`, in submission order.
  std::vector<request_handle> queued_requests() const {
    std::vector<request_handle> out;
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].state == request_state::queued) out.push_back({i, slots_[i].seq});
    }
    std::sort(out.begin(), out.end(), [](auto a, auto b) { return a.seq < b.seq; });
    return out;
  }

  // ----- Counts ------------------------------------------------------------------------
  std::size_t live() const noexcept { return live_; }
  std::size_t queued() const noexcept { return queued_; }
  std::size_t written() const noexcept { return written_; }
  bool has_queued() const noexcept { return queued_ != 0; }
  /// Internal sizes, for tests of the bounded-memory claims.
  std::size_t slab_size() const noexcept { return slots_.size(); }
  std::size_t queue_items() const noexcept { return queue_.size(); }
  std::size_t heap_items() const noexcept { return heap_.size(); }

 private:
  struct deadline_item {
    time_point deadline;
    request_handle handle;
  };
  static bool later(const deadline_item& a, const deadline_item& b) noexcept {
    return a.deadline > b.deadline || (a.deadline == b.deadline && a.handle.seq > b.handle.seq);
  }

  void push_deadline(time_point d, request_handle h) {
    heap_.push_back({d, h});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }

  void drop_stale_deadlines() {
    while (!heap_.empty() && !get(heap_.front().handle)) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      heap_.pop_back();
    }
  }

  // Released requests leave stale items in the heap and the queue; when they outnumber the
  // live ones, rebuild both (amortised O(1) per request, memory bounded by the live count).
  void maybe_compact() {
    if (heap_.size() > 2 * live_ + 64) {
      std::erase_if(heap_, [this](const deadline_item& d) { return get(d.handle) == nullptr; });
      std::make_heap(heap_.begin(), heap_.end(), later);
    }
    if (queue_.size() > 2 * queued_ + 64) {
      queue_.erase_if([this](request_handle h) {
        const entry* e = get(h);
        return !e || e->state != request_state::queued;
      });
    }
  }

  static void append_base36(std::uint64_t v, std::string& out) {
    char buf[16];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, 36);
    out.append(buf, r.ptr);
  }
  static bool parse_base36(std::string_view s, std::uint64_t& v) noexcept {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v, 36);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  }

  std::string prefix_;
  std::vector<entry> slots_;
  std::vector<std::uint32_t> free_;
  ring_queue<request_handle> queue_;
  std::vector<deadline_item> heap_;
  std::uint64_t last_seq_ = 0;
  std::size_t live_ = 0;
  std::size_t queued_ = 0;
  std::size_t written_ = 0;
};

}  // namespace neolith::detail

#endif  // NEOLITH_CLIENT_DETAIL_REQUEST_TABLE_HPP
