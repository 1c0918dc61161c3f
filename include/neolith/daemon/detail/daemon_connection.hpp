// One client connection of the daemon: the TLS handshake (with TLS), the HTTP upgrade (auth,
// 426/401), a reader coroutine that decodes and answers requests through the daemon core, a
// writer coroutine for the close handshake, and a watchdog timer (handshake deadline, covering
// the TLS handshake too; heartbeat timeout; close deadline).
// Everything of a connection runs on its own strand.
//
// Answers and pushes are serialized as WebSocket frames straight into the corked_stream under
// the WebSocket stream, in auto-cork mode: answers to the requests of one socket read leave in
// one socket write, when the reader goes back to the socket; a push (or a delayed answer)
// leaves at once. The bytes buffered there are the connection's outbound backlog.
#ifndef NEOLITH_DAEMON_DETAIL_DAEMON_CONNECTION_HPP
#define NEOLITH_DAEMON_DETAIL_DAEMON_CONNECTION_HPP

#include <neolith/core/detail/ring_queue.hpp>
#include <neolith/daemon/detail/daemon_server_impl.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/transport/detail/corked_stream.hpp>
#include <neolith/transport/detail/maybe_tls_stream.hpp>
#include <neolith/transport/detail/ws_deflate.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace neolith::detail {

class daemon_connection : public std::enable_shared_from_this<daemon_connection> {
 public:
  using clock = std::chrono::steady_clock;

  daemon_connection(std::shared_ptr<daemon_server::impl> server, boost::asio::ip::tcp::socket socket);
  ~daemon_connection();

  /// Starts the connection's coroutines.
  void start();

  // Thread-safe: each posts to the connection's strand.
  /// Queues a daemon push (heartbeat, session_updated) if the connection is upgraded.
  void push(std::shared_ptr<const std::string> text);
  /// Graceful close: pending answers first, then a close frame; cut after close_timeout.
  void close(boost::beast::websocket::close_code code, std::string reason);
  /// Closes the socket at once, without a close frame.
  void abort();

 private:
  struct out_item {
    std::string own;
    std::shared_ptr<const std::string> shared;
    bool is_close = false;
    boost::beast::websocket::close_reason reason;
    std::string_view text() const noexcept { return shared ? std::string_view(*shared) : std::string_view(own); }
  };
  struct delayed_answer {
    clock::time_point due;
    clock::time_point received;
    std::string text;
  };

  boost::asio::awaitable<void> run(std::shared_ptr<daemon_connection> self);
  boost::asio::awaitable<bool> upgrade();
  boost::asio::awaitable<bool> tls_handshake();
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop(std::shared_ptr<daemon_connection> self);

  void configure_stream();  // not inside a coroutine: GCC 12 mishandles lambdas there
  void deliver(std::string answer, clock::time_point received);
  void enqueue(out_item item);
  void arm_delay();
  void arm_watchdog(clock::time_point when);
  void on_watchdog();
  void begin_close(boost::beast::websocket::close_code code, std::string reason);
  void hard_close();
  void maybe_finish();
  /// Logs `r` with this connection's number (and the node's id).
  void log(log_record r) const;
  void log(log_level level, std::string_view event, std::string_view message) const;
  /// A plain request refused with HTTP `status`.
  void log_refused(int status, std::string_view why) const;

  std::shared_ptr<daemon_server::impl> server_;
  daemon_core& core_;
  using transport = maybe_tls_stream<boost::asio::ip::tcp::socket>;  ///< plain or TLS
  boost::beast::websocket::stream<corked_stream<transport>> ws_;
  boost::asio::steady_timer wake_;      ///< the writer waits on it for the close
  boost::asio::steady_timer watchdog_;
  std::unique_ptr<boost::asio::steady_timer> delay_timer_;  ///< only with response_delay
  boost::beast::flat_buffer buffer_;

  ring_queue<out_item> outq_;  ///< the close frame, once closing (data frames go straight out)
  ring_queue<delayed_answer> delayed_;
  bool delay_armed_ = false;

  clock::time_point last_activity_;
  clock::time_point close_deadline_{};
  bool upgraded_ = false;
  bool closing_ = false;    ///< close frame queued: no more answers
  bool hard_closed_ = false;
  bool reader_done_ = false;
  bool writer_done_ = false;
  bool writer_started_ = false;
  bool finished_ = false;
  bool counted_ = false;    ///< counted in counters().connections
  std::unique_ptr<message_deflater> deflater_;  ///< permessage-deflate agreed (and usable)
  daemon_server::impl::live_guard guard_;
  const std::uint64_t id_;            ///< numbered from 1, for the log
  std::uint16_t close_code_ = 0;      ///< the code of our close frame (0: none sent)
  std::string close_reason_;
};

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_DAEMON_CONNECTION_HPP
