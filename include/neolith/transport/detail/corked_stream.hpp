// corked_stream: a write-coalescing stream layer, meant to sit under beast::websocket::stream.
//
// A naive WebSocket peer makes one socket write (one system call, and on loopback the whole
// receive path of the peer) per frame. corked_stream makes one per burst:
//
// - `async_write_some` copies the caller's bytes into a pending buffer and completes at once
//   (through the handler's executor, never inline), so the WebSocket writer can go on with
//   its next frame;
// - one background flush at a time writes everything pending in one socket write; bytes
//   appended while it is in flight go out with the next flush, right after it;
// - `cork()` / `uncork()` let a writer that knows more frames are ready hold the flush until
//   it has appended them all (nested; the flush starts when the count returns to zero). An
//   uncorked stream flushes at once, so a lone frame pays no delay;
// - backpressure: while more than `limit` bytes wait (pending and being written), the flush
//   starts even when corked, and a write's completion is held until a flush brings the total
//   back under the limit (so a peer that does not read stalls the writer, as a plain socket
//   would);
// - errors are latched: once a flush fails, every later write fails with that error, and the
//   pending bytes are dropped;
// - auto-cork (for a server answering requests): while the owner is busy (no read of its
//   is waiting on the next layer), what it appends is held; the moment it goes back to the
//   socket for more input, everything pending is flushed first. Answers to requests that came
//   in one read leave in one write, and a lone answer leaves as soon as its request is done;
// - reads pass through to the next layer (marked, for auto-cork);
// - WebSocket control frames Beast writes itself (pong, close) go through the same buffer, in
//   order; the teardown of a closing WebSocket first waits for the pending bytes to be
//   written (the close frame among them).
//
// Single-threaded like any Asio I/O object: use it from one strand. The buffers live in a
// state shared with the flush in flight, so destroying the stream while a flush is pending is
// safe (the flush completes with operation_aborted and touches nothing else).
#ifndef NEOLITH_TRANSPORT_DETAIL_CORKED_STREAM_HPP
#define NEOLITH_TRANSPORT_DETAIL_CORKED_STREAM_HPP

#include <neolith/core/detail/adapted_handler.hpp>
#include <neolith/transport/detail/async_stream_ops.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace neolith::detail {

/// The adapter of a read's handler on the next layer (adapted_handler): clears the stream's
/// "reading" mark, then calls the caller's handler.
template <class State>
struct reading_done {
  std::shared_ptr<State> st;
  template <class Handler>
  void operator()(Handler&& handler, const boost::system::error_code& ec, std::size_t n) {
    st->reading = false;
    std::move(handler)(ec, n);
  }
};

template <class NextLayer>
class corked_stream : public async_stream_ops<corked_stream<NextLayer>> {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;
  using error_code = boost::system::error_code;

  /// Bytes waiting (pending + being written) above which the flush ignores the cork and
  /// writes are held back.
  static constexpr std::size_t default_limit = 64 * 1024;
  /// After a burst, buffers whose capacity grew above this are released once empty (an idle
  /// connection keeps at most this much per buffer).
  static constexpr std::size_t keep_capacity = 2048;

  template <class... Args>
  explicit corked_stream(Args&&... args)
      : next_(std::forward<Args>(args)...), st_(std::make_shared<state>(next_.get_executor())) {
    st_->next = &next_;
  }
  ~corked_stream() { st_->next = nullptr; }

  corked_stream(const corked_stream&) = delete;
  corked_stream& operator=(const corked_stream&) = delete;

  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }
  executor_type get_executor() noexcept { return next_.get_executor(); }

  /// Holds the flush until the matching `uncork()` (unless the limit is reached).
  void cork() noexcept { ++st_->corked; }
  /// Releases one `cork()`; the last one starts the flush of what is pending.
  void uncork() {
    if (st_->corked > 0 && --st_->corked == 0) maybe_flush(*st_);
  }

  /// Auto-cork: hold what is appended while no read waits on the next layer (see above).
  void auto_cork(bool on) {
    st_->auto_cork = on;
    maybe_flush(*st_);
  }

  void limit(std::size_t bytes) noexcept { st_->limit = bytes == 0 ? 1 : bytes; }
  std::size_t limit() const noexcept { return st_->limit; }
  /// Bytes accepted and not yet written to the next layer.
  std::size_t buffered() const noexcept { return buffered_of(*st_); }
  /// Socket writes made (flushes completed) and bytes written, since construction.
  std::uint64_t flushes() const noexcept { return st_->flushes; }
  std::uint64_t bytes_written() const noexcept { return st_->bytes; }
  /// Also counts each completed socket write in `*counter` (relaxed), e.g. a statistic that
  /// outlives the stream; null: not counted.
  void count_writes(std::atomic<std::uint64_t>* counter) noexcept { st_->write_counter = counter; }
  /// The latched write error, if any.
  const error_code& write_error() const noexcept { return st_->error; }

  // async_read_some, async_write_some: from async_stream_ops, through initiate_read/_write.

  /// Appends bytes directly to the pending buffer: `fill(std::vector<char>& out)` appends them
  /// (e.g. a whole WebSocket frame, serialized in place). No completion, no backpressure: the
  /// caller watches `buffered()` (and `async_wait_below`). Flushes at once unless corked.
  /// Returns false (and appends nothing) once a write error is latched.
  template <class Fill>
  bool append(Fill&& fill) {
    state& s = *st_;
    if (s.error) return false;
    fill(s.pending);
    maybe_flush(s);
    return true;
  }

  /// Called once, on the stream's executor, when a flush fails (never after the stream is
  /// destroyed): lets an owner that writes with `append` learn of the failure.
  void on_error(std::function<void(const error_code&)> f) { st_->error_callback = std::move(f); }

  /// Completes once every byte accepted so far has been written (or the stream failed: then
  /// with the latched error).
  template <class DrainToken>
  auto async_drain(DrainToken&& token) {
    return boost::asio::async_initiate<DrainToken, void(error_code)>(initiate_drain{this, 0}, token);
  }

  /// Completes once at most `bytes` are buffered (or the stream failed: then with the latched
  /// error). Waiting overrides the cork.
  template <class WaitToken>
  auto async_wait_below(std::size_t bytes, WaitToken&& token) {
    return boost::asio::async_initiate<WaitToken, void(error_code)>(initiate_drain{this, bytes}, token);
  }

 private:
  friend class async_stream_ops<corked_stream>;

  struct state : std::enable_shared_from_this<state> {
    explicit state(executor_type e) : ex(std::move(e)) {}
    executor_type ex;                 // where completions go when a handler names no executor
    next_layer_type* next = nullptr;  // null once the stream is gone
    std::vector<char> pending;        // accepted, not yet handed to the next layer
    std::vector<char> writing;        // handed to the next layer by the flush in flight
    std::size_t offset = 0;           // bytes of `writing` already written
    bool flushing = false;
    bool auto_cork = false;
    bool reading = false;  // a read waits on the next layer
    int corked = 0;
    std::size_t limit = default_limit;
    error_code error;
    std::optional<boost::asio::any_completion_handler<void(error_code, std::size_t)>> held;
    std::size_t held_bytes = 0;
    struct drainer {
      std::size_t below;  // completes once buffered() <= below
      boost::asio::any_completion_handler<void(error_code)> handler;
    };
    std::vector<drainer> drainers;
    std::function<void(const error_code&)> error_callback;
    std::uint64_t flushes = 0;
    std::uint64_t bytes = 0;
    std::atomic<std::uint64_t>* write_counter = nullptr;
  };

  struct flush_handler {
    std::shared_ptr<state> st;
    void operator()(const error_code& ec, std::size_t n) const {
      state& s = *st;
      if (!ec && s.next == nullptr) return on_error(s, boost::asio::error::operation_aborted);
      if (ec) return on_error(s, ec);
      s.offset += n;
      s.bytes += n;
      if (s.offset < s.writing.size()) return issue(st);
      ++s.flushes;
      if (s.write_counter != nullptr) s.write_counter->fetch_add(1, std::memory_order_relaxed);
      s.flushing = false;
      s.writing.clear();
      s.offset = 0;
      if (s.writing.capacity() > keep_capacity) std::vector<char>().swap(s.writing);
      if (s.held && s.pending.size() <= s.limit) {
        auto h = std::move(*s.held);
        s.held.reset();
        complete(s, std::move(h), error_code{}, s.held_bytes);
      }
      maybe_flush(s);
      if (!s.flushing && s.pending.empty() && s.pending.capacity() > keep_capacity)
        std::vector<char>().swap(s.pending);
      finish_drainers(s, error_code{});
    }
  };

  struct initiate_write {
    corked_stream* self;
    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      state& s = *self->st_;
      if (s.error) return complete(s, std::forward<Handler>(handler), s.error, std::size_t{0});
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
           ++it) {
        const boost::asio::const_buffer b(*it);
        const char* p = static_cast<const char*>(b.data());
        s.pending.insert(s.pending.end(), p, p + b.size());
        n += b.size();
      }
      const bool over = s.pending.size() + (s.writing.size() - s.offset) > s.limit;
      maybe_flush(s);
      if (over && s.flushing) {
        // Backpressure: complete when a flush has brought the buffer back under the limit.
        s.held.emplace(std::forward<Handler>(handler));
        s.held_bytes = n;
        return;
      }
      complete(s, std::forward<Handler>(handler), error_code{}, n);
    }
  };

  /// Marks the read as done before handing its result on (see read_done_handler).
  struct initiate_read {
    corked_stream* self;
    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      state& s = *self->st_;
      s.reading = true;
      maybe_flush(s);  // going back to the socket: what the owner appended goes out first
      self->next_.async_read_some(buffers, adapt_handler(std::forward<Handler>(handler), reading_done<state>{self->st_}));
    }
  };

  struct initiate_drain {
    corked_stream* self;
    std::size_t below;
    template <class Handler>
    void operator()(Handler&& handler) const {
      state& s = *self->st_;
      if (s.error) return complete(s, std::forward<Handler>(handler), s.error);
      if (buffered_of(s) <= below) return complete(s, std::forward<Handler>(handler), error_code{});
      s.drainers.push_back({below, boost::asio::any_completion_handler<void(error_code)>(std::forward<Handler>(handler))});
      maybe_flush(s);  // a waiter overrides the cork
    }
  };

  static std::size_t buffered_of(const state& s) noexcept { return s.pending.size() + (s.writing.size() - s.offset); }

  /// Completes `handler` with `args`, never inline: posted to the stream's executor, from
  /// which it is dispatched to the handler's own associated executor.
  template <class Handler, class... Args>
  static void complete(state& s, Handler&& handler, Args... args) {
    boost::asio::post(s.ex, boost::beast::bind_front_handler(std::forward<Handler>(handler), args...));
  }

  static void maybe_flush(state& s) {
    if (s.flushing || s.pending.empty() || s.error || s.next == nullptr) return;
    const bool hold = s.corked > 0 || (s.auto_cork && !s.reading);
    if (hold && buffered_of(s) <= s.limit && s.drainers.empty()) return;
    start_flush(s);
  }

  static void start_flush(state& s) {
    if (s.flushing || s.pending.empty() || s.error || s.next == nullptr) return;
    s.writing.swap(s.pending);
    s.offset = 0;
    s.flushing = true;
    issue(s.shared_from_this());
  }

  static void issue(const std::shared_ptr<state>& st) {
    state& s = *st;
    s.next->async_write_some(boost::asio::buffer(s.writing.data() + s.offset, s.writing.size() - s.offset),
                             flush_handler{st});
  }

  static void on_error(state& s, const error_code& ec) {
    const bool first = !s.error;
    s.error = ec;
    s.flushing = false;
    std::vector<char>().swap(s.pending);
    std::vector<char>().swap(s.writing);
    s.offset = 0;
    if (s.held) {
      auto h = std::move(*s.held);
      s.held.reset();
      complete(s, std::move(h), ec, std::size_t{0});
    }
    finish_drainers(s, ec);
    if (first && s.next != nullptr && s.error_callback) {
      auto cb = s.error_callback;  // the callback may replace itself
      cb(ec);
    }
  }

  /// Completes the waiters whose threshold is reached (all of them on error).
  static void finish_drainers(state& s, const error_code& ec) {
    if (s.drainers.empty()) return;
    const std::size_t now = buffered_of(s);
    std::vector<typename state::drainer> ready;
    for (auto it = s.drainers.begin(); it != s.drainers.end();) {
      if (ec || now <= it->below) {
        ready.push_back(std::move(*it));
        it = s.drainers.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& d : ready) complete(s, std::move(d.handler), ec);
  }

  next_layer_type next_;
  std::shared_ptr<state> st_;
};

/// Tearing down a corked stream (a WebSocket close): the bytes pending (the close frame among
/// them) are written first, then the next layer is torn down.
template <class NextLayer>
struct corked_teardown_op {
  boost::beast::role_type role;
  corked_stream<NextLayer>& stream;
  int step = 0;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}) {
    switch (step) {
      case 0:
        step = 1;
        stream.async_drain(std::move(self));
        return;
      case 1: {
        step = 2;
        using boost::beast::websocket::async_teardown;
        async_teardown(role, stream.next_layer(), std::move(self));
        return;
      }
      default: self.complete(ec);
    }
  }
};

template <class NextLayer>
void teardown(boost::beast::role_type role, corked_stream<NextLayer>& s, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, corked_stream<NextLayer>& s, TeardownHandler&& handler) {
  boost::asio::async_compose<TeardownHandler, void(boost::system::error_code)>(
      corked_teardown_op<NextLayer>{role, s}, handler, s);
}

}  // namespace neolith::detail

#endif  // NEOLITH_TRANSPORT_DETAIL_CORKED_STREAM_HPP
