// The TCP side of a WebSocket close (RFC 6455 section 7.1.1), bounded.
//
// After the close frame is written, the server shuts its sending side down; then what the
// peer still sends (the rest of a message refused for its size, the answer to our close
// frame) is read and dropped until the peer's end of the stream; then the client shuts its
// side down, and the socket is closed. Closing a socket with unread bytes makes the kernel
// send a reset, and a reset makes the peer's kernel drop what it has not read yet: the close
// frame, with its code (a peer then sees 1006 instead of 1009).
//
// Beast 1.81's own TCP teardown stops after the first read (it tests a stale byte count), so
// it closes with bytes still arriving. This one reads until the end of the stream, at most
// `limits.bytes` bytes and `limits.time`: past either, the socket is closed anyway (a peer
// that never stops sending cannot hold the connection).
#ifndef NEOLITH_TRANSPORT_DETAIL_TCP_TEARDOWN_HPP
#define NEOLITH_TRANSPORT_DETAIL_TCP_TEARDOWN_HPP

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

namespace neolith::detail {

/// How long, and how many bytes, a teardown reads and drops before it closes the socket.
struct teardown_limits {
  std::chrono::milliseconds time{1000};
  std::size_t bytes = 64u * 1024 * 1024;
};

template <class Socket>
struct bounded_teardown_op {
  struct state {
    Socket& socket;
    boost::asio::steady_timer timer;
    std::vector<char> buffer = std::vector<char>(64 * 1024);
    std::size_t left;
    bool done = false;
    state(Socket& s, std::size_t bytes) : socket(s), timer(s.get_executor()), left(bytes) {}
  };

  boost::beast::role_type role;
  teardown_limits limits;
  std::shared_ptr<state> st;

  template <class Self>
  void operator()(Self& self) {
    boost::system::error_code ec;
    if (role == boost::beast::role_type::server) st->socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
    if (ec) return finish(self, ec);
    // Past the time limit the socket is closed: the read under way ends with an error.
    st->timer.expires_after(limits.time);
    st->timer.async_wait([s = st](const boost::system::error_code& tec) {
      if (tec || s->done) return;
      boost::system::error_code ignored;
      s->socket.close(ignored);
    });
    read_more(self);
  }

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec, std::size_t n) {
    st->left -= std::min(n, st->left);
    if (!ec && st->left > 0) return read_more(self);
    const bool peer_done = ec == boost::asio::error::eof;
    // Otherwise a limit was reached (the peer had its chance to read the close frame) or the
    // peer reset the connection: either way the close is over.
    ec = {};
    if (peer_done && role == boost::beast::role_type::client)
      st->socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
    finish(self, ec);
  }

 private:
  template <class Self>
  void read_more(Self& self) {
    auto& buf = st->buffer;
    st->socket.async_read_some(boost::asio::buffer(buf.data(), std::min(buf.size(), st->left)), std::move(self));
  }

  template <class Self>
  void finish(Self& self, boost::system::error_code ec) {
    st->done = true;
    st->timer.cancel();
    boost::system::error_code ignored;
    st->socket.close(ignored);
    self.complete(ec);
  }
};

/// Tears `socket` down as the `role` side of a WebSocket close, within `limits`; completes
/// with `void(error_code)`: an error only when the socket cannot be shut down.
template <class Socket, class Handler>
void async_bounded_teardown(boost::beast::role_type role, Socket& socket, teardown_limits limits, Handler&& handler) {
  using op = bounded_teardown_op<Socket>;
  boost::asio::async_compose<Handler, void(boost::system::error_code)>(
      op{role, limits, std::make_shared<typename op::state>(socket, limits.bytes)}, handler, socket);
}

}  // namespace neolith::detail

#endif  // NEOLITH_TRANSPORT_DETAIL_TCP_TEARDOWN_HPP
