// maybe_tls_stream: a byte stream that is plain TCP or TLS over that TCP stream, chosen at run
// time (ws:// or wss://), meant to sit under corked_stream (itself under the WebSocket stream).
//
// It owns the TCP stream (`next_layer()`, so `beast::get_lowest_layer` still finds the socket)
// and, once `start_tls()` was called, an `asio::ssl::stream` over a reference to it. Reads and
// writes go to the TLS stream when there is one, to the TCP stream otherwise: one branch per
// call, the caller's handler forwarded as it is (no allocation, no wrapper). A plain stream
// pays one null pointer.
//
// Teardown (a WebSocket close): with TLS, close_notify first (`async_shutdown`), then the TCP
// teardown, as Beast does for `ssl::stream`; plain, the TCP teardown.
//
// Single-threaded like any Asio I/O object. One read and one write may be in flight at once
// (asio::ssl::stream allows it too).
#ifndef NEOLITH_DETAIL_MAYBE_TLS_STREAM_HPP
#define NEOLITH_DETAIL_MAYBE_TLS_STREAM_HPP

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <utility>

namespace neolith::detail {

template <class NextLayer>
class maybe_tls_stream {
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

  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }
  executor_type get_executor() noexcept { return next_.get_executor(); }

  /// Puts TLS over the TCP stream: from now on every read and write is encrypted. Call once,
  /// before any read or write, then run the handshake on the returned stream. `ctx` must
  /// outlive this stream.
  tls_stream_type& start_tls(boost::asio::ssl::context& ctx) {
    tls_ = std::make_unique<tls_stream_type>(next_, ctx);
    return *tls_;
  }

  /// The TLS stream, or null when plain.
  tls_stream_type* tls() noexcept { return tls_.get(); }
  bool is_tls() const noexcept { return tls_ != nullptr; }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return boost::asio::async_initiate<ReadToken, void(error_code, std::size_t)>(initiate_read{this}, token,
                                                                                buffers);
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(error_code, std::size_t)>(initiate_write{this}, token,
                                                                                 buffers);
  }

 private:
  struct initiate_read {
    maybe_tls_stream* self;
    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      if (self->tls_)
        self->tls_->async_read_some(buffers, std::forward<Handler>(handler));
      else
        self->next_.async_read_some(buffers, std::forward<Handler>(handler));
    }
  };

  struct initiate_write {
    maybe_tls_stream* self;
    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      if (self->tls_)
        self->tls_->async_write_some(buffers, std::forward<Handler>(handler));
      else
        self->next_.async_write_some(buffers, std::forward<Handler>(handler));
    }
  };

  next_layer_type next_;                  // declared first: the TLS stream refers to it
  std::unique_ptr<tls_stream_type> tls_;  // null: plain
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

/// Asynchronous teardown: with TLS, Beast's ssl::stream teardown (async_shutdown, then the
/// TCP teardown of the next layer); plain, the TCP teardown.
template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, maybe_tls_stream<NextLayer>& s, TeardownHandler&& handler) {
  if (auto* t = s.tls()) {
    boost::beast::async_teardown(role, *t, std::forward<TeardownHandler>(handler));
    return;
  }
  using boost::beast::websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace neolith::detail

#endif  // NEOLITH_DETAIL_MAYBE_TLS_STREAM_HPP
