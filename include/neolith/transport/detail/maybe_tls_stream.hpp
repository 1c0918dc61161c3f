// maybe_tls_stream: a byte stream that is plain TCP or TLS over that TCP stream, chosen at run
// time (ws:// or wss://), meant to sit under corked_stream (itself under the WebSocket stream).
//
// Plain, it holds the TCP stream inline and forwards reads and writes to it: one branch per
// call, the caller's handler passed on as it is (no allocation, no wrapper).
//
// `start_tls()` moves the TCP stream into a heap block together with an `asio::ssl::stream`
// over it. An asio::ssl::stream must outlive its operations (they refer to it), while an
// owner such as corked_stream may destroy its stream with a write still in flight (safe on a
// socket): so every TLS operation's handler holds a reference to the block, which lives until
// the last of them has completed. `next_layer()` is the TCP stream wherever it lives (fetch it
// again after `start_tls()`; `beast::get_lowest_layer` does).
//
// Teardown (a WebSocket close): with TLS, close_notify (`async_shutdown`), as Beast does for
// `ssl::stream`; plain, the bounded TCP teardown of tcp_teardown.hpp (not Beast's, which
// closes with bytes still arriving, and the reset loses the close frame).
//
// Single-threaded like any Asio I/O object. One read and one write may be in flight at once
// (asio::ssl::stream allows it too).
#ifndef NEOLITH_TRANSPORT_DETAIL_MAYBE_TLS_STREAM_HPP
#define NEOLITH_TRANSPORT_DETAIL_MAYBE_TLS_STREAM_HPP

#include <neolith/core/detail/adapted_handler.hpp>
#include <neolith/transport/detail/async_stream_ops.hpp>
#include <neolith/transport/detail/tcp_teardown.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace neolith::detail {

/// The adapter of a TLS operation's handler (adapted_handler): keeps the TLS block alive
/// until the operation completes, then calls the caller's handler.
template <class Block>
struct tls_keep_alive {
  std::shared_ptr<Block> block;
  template <class Handler, class... Args>
  void operator()(Handler&& handler, Args&&... args) {
    std::move(handler)(std::forward<Args>(args)...);
  }
};

template <class NextLayer>
class maybe_tls_stream : public async_stream_ops<maybe_tls_stream<NextLayer>> {
 public:
  using next_layer_type = NextLayer;
  using tls_stream_type = boost::asio::ssl::stream<NextLayer&>;
  using executor_type = typename NextLayer::executor_type;
  using error_code = boost::system::error_code;

  /// Constructs the TCP stream from `args`; plain until `start_tls()`.
  template <class... Args>
  explicit maybe_tls_stream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  maybe_tls_stream(const maybe_tls_stream&) = delete;
  maybe_tls_stream& operator=(const maybe_tls_stream&) = delete;

  /// The TCP stream (after `start_tls()`, the one under TLS).
  next_layer_type& next_layer() noexcept { return tls_ ? tls_->tcp : next_; }
  const next_layer_type& next_layer() const noexcept { return tls_ ? tls_->tcp : next_; }
  /// (A moved-from socket keeps its executor: `next_` answers in both modes.)
  executor_type get_executor() noexcept { return next_.get_executor(); }

  /// Puts TLS over the TCP stream: from now on every read and write is encrypted. Call once,
  /// with no operation in flight (before the first read or write), then run the handshake on
  /// the returned stream. `ctx` must outlive this stream and its operations.
  tls_stream_type& start_tls(boost::asio::ssl::context& ctx) {
    tls_ = std::make_shared<tls_block>(std::move(next_), ctx);
    return tls_->ssl;
  }

  /// The TLS stream, or null when plain.
  tls_stream_type* tls() noexcept { return tls_ ? &tls_->ssl : nullptr; }
  bool is_tls() const noexcept { return tls_ != nullptr; }

  // async_read_some, async_write_some: from async_stream_ops, through initiate_read/_write.

  /// How long and how much the (plain) teardown reads before it closes the socket.
  void set_teardown_limits(teardown_limits l) noexcept { teardown_limits_ = l; }
  const teardown_limits& get_teardown_limits() const noexcept { return teardown_limits_; }

  /// Starts the TLS shutdown (see async_teardown below).
  template <class TeardownHandler>
  void async_tls_teardown(boost::beast::role_type role, TeardownHandler&& handler) {
    boost::beast::async_teardown(role, tls_->ssl, keep_alive(std::forward<TeardownHandler>(handler)));
  }

 private:
  friend class async_stream_ops<maybe_tls_stream>;

  struct tls_block {
    tls_block(NextLayer&& t, boost::asio::ssl::context& ctx) : tcp(std::move(t)), ssl(tcp, ctx) {}
    NextLayer tcp;        // declared first: the TLS stream refers to it
    tls_stream_type ssl;
  };

  template <class Handler>
  auto keep_alive(Handler&& h) const {
    return adapt_handler(std::forward<Handler>(h), tls_keep_alive<tls_block>{tls_});
  }

  struct initiate_read {
    maybe_tls_stream* self;
    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      if (self->tls_)
        self->tls_->ssl.async_read_some(buffers, self->keep_alive(std::forward<Handler>(handler)));
      else
        self->next_.async_read_some(buffers, std::forward<Handler>(handler));
    }
  };

  struct initiate_write {
    maybe_tls_stream* self;
    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      if (self->tls_)
        self->tls_->ssl.async_write_some(buffers, self->keep_alive(std::forward<Handler>(handler)));
      else
        self->next_.async_write_some(buffers, std::forward<Handler>(handler));
    }
  };

  next_layer_type next_;              // plain: the TCP stream (moved out by start_tls)
  std::shared_ptr<tls_block> tls_;    // null: plain
  teardown_limits teardown_limits_;
};

/// Synchronous teardown (Beast's websocket close): close_notify then TCP teardown with TLS.
template <class NextLayer>
void teardown(boost::beast::role_type role, maybe_tls_stream<NextLayer>& s, boost::system::error_code& ec) {
  if (auto* t = s.tls()) {
    boost::beast::teardown(role, *t, ec);
    return;
  }
  using boost::beast::websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

/// Asynchronous teardown: with TLS, Beast's ssl::stream teardown (async_shutdown); plain, the
/// bounded TCP teardown.
template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, maybe_tls_stream<NextLayer>& s, TeardownHandler&& handler) {
  if (s.is_tls()) {
    s.async_tls_teardown(role, std::forward<TeardownHandler>(handler));
    return;
  }
  async_bounded_teardown(role, s.next_layer(), s.get_teardown_limits(), std::forward<TeardownHandler>(handler));
}

}  // namespace neolith::detail

#endif  // NEOLITH_TRANSPORT_DETAIL_MAYBE_TLS_STREAM_HPP
