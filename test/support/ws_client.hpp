// A plain Beast WebSocket test client, independent of neolith's own client: it connects to
// 127.0.0.1, keeps one read pending at all times (messages go to a queue, so "nothing arrived
// within X" can be checked without breaking the stream) and drives its private io_context from
// the calling test thread with bounded waits. Not thread-safe: one test thread per client.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace neolith::test {

using namespace std::chrono_literals;

/// One message received.
struct ws_message {
  bool text = true;
  std::string data;
};

struct ws_connect_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string target = "/";
  std::optional<std::string> authorization;  ///< the Authorization header's value
  bool offer_deflate = false;                ///< offer permessage-deflate
  int deflate_server_window_bits = 15;       ///< ...asking the server for this window (9..15)

  /// A connection to 127.0.0.1:`port` offering permessage-deflate.
  static ws_connect_options offering_deflate(std::uint16_t port, int server_window_bits = 15) {
    ws_connect_options o;
    o.port = port;
    o.offer_deflate = true;
    o.deflate_server_window_bits = server_window_bits;
    return o;
  }
  std::size_t max_message_bytes = 64u * 1024 * 1024;
};

class ws_client {
 public:
  ws_client();
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Connects and upgrades. On failure, `http_status()` tells the status of a refused upgrade
  /// (e.g. 401), or 0.
  boost::system::error_code connect(const ws_connect_options& o, std::chrono::milliseconds timeout = 5s);
  boost::system::error_code connect(std::uint16_t port, std::chrono::milliseconds timeout = 5s);
  int http_status() const noexcept { return http_status_; }
  /// Whether the server accepted permessage-deflate (its Sec-WebSocket-Extensions answer).
  bool deflate_negotiated() const;

  boost::system::error_code send_text(std::string_view s, std::chrono::milliseconds timeout = 5s);
  boost::system::error_code send_binary(std::string_view s, std::chrono::milliseconds timeout = 5s);
  boost::system::error_code send_json(const boost::json::object& o, std::chrono::milliseconds timeout = 5s);
  boost::system::error_code ping(std::chrono::milliseconds timeout = 5s);
  /// Sends a close frame and waits for the close handshake to end.
  boost::system::error_code close(boost::beast::websocket::close_code code = boost::beast::websocket::close_code::normal,
                                  std::chrono::milliseconds timeout = 5s);
  /// Closes the TCP socket at once (a client vanishing).
  void drop();

  /// The next message, waiting at most `timeout`; nullopt on timeout or once the connection
  /// has ended (see `ended()`).
  std::optional<ws_message> next(std::chrono::milliseconds timeout = 5s);
  /// The next text message parsed as a JSON object; nullopt on timeout, or when the message
  /// is not a JSON object (see `problem()`).
  std::optional<boost::json::object> next_json(std::chrono::milliseconds timeout = 5s);
  /// The next JSON message whose "type" is not "heartbeat" (daemon heartbeats skipped).
  std::optional<boost::json::object> next_answer(std::chrono::milliseconds timeout = 5s);
  /// The first JSON message satisfying `pred`, skipping others, within `timeout`.
  std::optional<boost::json::object> next_matching(const std::function<bool(const boost::json::object&)>& pred,
                                                   std::chrono::milliseconds timeout = 5s);
  /// Sends `request` (adding "requestId": id when given) and waits for the answer carrying
  /// that requestId.
  std::optional<boost::json::object> request(boost::json::object request, std::string_view id,
                                             std::chrono::milliseconds timeout = 5s);

  /// Waits until the connection ends (close frame or error); true if it did within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout = 5s);
  bool ended() const noexcept { return ended_; }
  /// The error that ended the read loop (websocket::error::closed after a close frame).
  boost::system::error_code end_error() const noexcept { return end_ec_; }
  /// The close frame received from the server (code 0 if none).
  boost::beast::websocket::close_reason close_reason() const;
  /// What was wrong with the last message next_json() refused ("" when nothing).
  const std::string& problem() const noexcept { return problem_; }
  /// Messages received so far and not yet taken.
  std::size_t queued() const noexcept { return inbox_.size(); }

 private:
  void start_read();
  boost::system::error_code run_op(const std::function<void(std::function<void(boost::system::error_code)>)>& start,
                                   std::chrono::milliseconds timeout);

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<ws_message> inbox_;
  bool reading_ = false;
  bool ended_ = false;
  bool connected_ = false;
  boost::system::error_code end_ec_;
  int http_status_ = 0;
  std::string extensions_;
  std::string problem_;
};

/// A raw HTTP request to 127.0.0.1:port: the response status (0 on failure) and body.
struct http_reply {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};
http_reply http_get(std::uint16_t port, const std::map<std::string, std::string>& headers = {},
                    std::chrono::milliseconds timeout = 5s);
/// Sends raw bytes, then reads whatever comes back until EOF/timeout.
std::string raw_exchange(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout = 5s);

}  // namespace neolith::test
