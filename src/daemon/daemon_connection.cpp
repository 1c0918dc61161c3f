#include <neolith/daemon/detail/daemon_auth.hpp>
#include <neolith/daemon/detail/daemon_connection.hpp>
#include <neolith/daemon/detail/daemon_http.hpp>
#include <neolith/transport/detail/tls_context.hpp>
#include <neolith/transport/detail/ws_deflate.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/option.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <exception>
#include <utility>

namespace neolith::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// The decoder of the calling thread (a decoder keeps ~36 KiB of parse arena: one per io
/// thread rather than one per connection keeps idle connections small). Used between two
/// suspension points only, so no other connection can interleave.
decoder& thread_decoder(std::size_t max_message_bytes) {
  thread_local std::unique_ptr<decoder> d;
  if (!d || d->options().max_message_bytes != max_message_bytes)
    d = std::make_unique<decoder>(decode_options{max_message_bytes, max_json_depth});
  return *d;
}

/// Above this, the read buffer is released after each message (idle connections stay small).
constexpr std::size_t keep_buffer_bytes = 16 * 1024;

/// Answers a request that is not upgraded (a probe, 400, 401, 426) and half-closes the
/// connection.
template <class Stream>
asio::awaitable<void> respond(Stream& stream, http::status st, std::string body, bool unauthorized,
                              std::string_view content_type = "text/plain") {
  http::response<http::string_body> res{st, 11};
  res.set(http::field::server, "neolith");
  res.set(http::field::content_type, content_type);
  if (unauthorized) res.set(http::field::www_authenticate, "Bearer");
  if (st == http::status::upgrade_required) {
    res.set(http::field::upgrade, "websocket");
    res.set(http::field::sec_websocket_version, "13");
  }
  res.keep_alive(false);
  res.body() = std::move(body);
  res.prepare_payload();
  co_await http::async_write(stream, res, use_tuple);
  beast::error_code ignored;
  beast::get_lowest_layer(stream).shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace

daemon_connection::daemon_connection(std::shared_ptr<daemon_server::impl> server, asio::ip::tcp::socket socket)
    : server_(std::move(server)),
      core_(*server_->core),
      ws_(std::move(socket)),
      wake_(ws_.get_executor()),
      watchdog_(ws_.get_executor()),
      last_activity_(clock::now()),
      guard_(server_),
      id_(server_->connection_ids.fetch_add(1, std::memory_order_relaxed) + 1) {}

daemon_connection::~daemon_connection() = default;

void daemon_connection::start() {
  auto self = shared_from_this();
  asio::co_spawn(ws_.get_executor(), run(self), [](std::exception_ptr) {});
}

void daemon_connection::push(std::shared_ptr<const std::string> text) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
    if (!self->upgraded_ || self->closing_) return;
    out_item item;
    item.shared = std::move(text);
    self->enqueue(std::move(item));
  });
}

void daemon_connection::close(websocket::close_code code, std::string reason) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
    self->begin_close(code, std::move(reason));
  });
}

void daemon_connection::abort() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] { self->hard_close(); });
}

asio::awaitable<void> daemon_connection::run(std::shared_ptr<daemon_connection> self) {
  bool ok = false;
  try {
    ok = co_await upgrade();
  } catch (const std::exception& e) {
    log(log_level::error, "connection_failed", std::string("upgrade failed: ") + e.what());
  }
  if (!ok || hard_closed_) {
    hard_close();
    reader_done_ = true;
    maybe_finish();
    co_return;
  }
  upgraded_ = true;
  counted_ = true;
  core_.counters().connections.fetch_add(1);
  core_.counters().connections_accepted.fetch_add(1);
  if (core_.logger().enabled(log_level::info)) {
    beast::error_code pec;
    const auto peer = beast::get_lowest_layer(ws_).remote_endpoint(pec);
    const std::string where = pec ? std::string() : peer.address().to_string() + ":" + std::to_string(peer.port());
    log_record r;
    r.event = "connection_opened";
    r.peer = where;
    log(r);
  }
  last_activity_ = clock::now();
  arm_watchdog(last_activity_ + server_->opts.heartbeat_timeout);
  writer_started_ = true;
  asio::co_spawn(ws_.get_executor(), write_loop(self), [](std::exception_ptr) {});
  try {
    co_await read_loop();
  } catch (const std::exception& e) {
    log(log_level::error, "connection_failed", std::string("reader failed: ") + e.what());
  }
  reader_done_ = true;
  wake_.cancel();
  if (!closing_) {
    // The peer went away (or broke the protocol): nothing more can be sent.
    hard_close();
  }
  maybe_finish();
}

asio::awaitable<bool> daemon_connection::tls_handshake() {
  auto& t = ws_.next_layer().next_layer().start_tls(*server_->tls_context);
  auto [ec] = co_await t.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (!ec) co_return true;
  // A client that does not speak TLS, is not trusted, or stalls (then the watchdog closed the
  // socket, and said so): only this connection ends.
  core_.counters().tls_handshakes_failed.fetch_add(1, std::memory_order_relaxed);
  if (!hard_closed_ && core_.logger().enabled(log_level::warning))
    log(log_level::warning, "connection_refused", "TLS handshake failed: " + tls_error_text(ec, t.native_handle()));
  co_return false;
}

asio::awaitable<bool> daemon_connection::upgrade() {
  const daemon_options& o = server_->opts;
  arm_watchdog(clock::now() + o.handshake_timeout);

  if (server_->tls_context) {
    const bool secured = co_await tls_handshake();
    if (!secured) co_return false;
  }

  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  auto& sock = ws_.next_layer().next_layer();  // plain or TLS
  auto [ec, n] = co_await http::async_read_header(sock, buffer_, parser, use_tuple);
  (void)n;

  if (ec) {
    if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted && !hard_closed_ &&
        beast::get_lowest_layer(ws_).is_open()) {
      core_.counters().http_refused.fetch_add(1);
      log_refused(400, "bad request: " + ec.message());
      co_await respond(sock, http::status::bad_request, "bad request\n", false);
    }
    co_return false;
  }
  const auto& req = parser.get();
  if (!websocket::is_upgrade(req)) {
    if (auto page = answer_probe(*server_, req)) {  // GET /metrics, /healthz, /readyz
      if (core_.logger().enabled(log_level::debug)) {
        log_record r;
        r.level = log_level::debug;
        r.event = "http_request";
        r.code = static_cast<int>(page->status);
        r.message = req.target();
        log(r);
      }
      co_await respond(sock, page->status, std::move(page->body), false, page->content_type);
      co_return false;
    }
  }
  if (o.token && !bearer_token_matches(req[http::field::authorization], *o.token)) {
    core_.counters().http_refused.fetch_add(1);
    log_refused(401, "missing or wrong bearer token");
    co_await respond(sock, http::status::unauthorized, "unauthorized\n", true);
    co_return false;
  }
  if (!websocket::is_upgrade(req)) {
    core_.counters().http_refused.fetch_add(1);
    log_refused(426, "not a WebSocket upgrade");
    co_await respond(sock, http::status::upgrade_required, "this is a neolith daemon: connect with a WebSocket\n", false);
    co_return false;
  }

  configure_stream();
  auto [aec] = co_await ws_.async_accept(req, use_tuple);
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > keep_buffer_bytes) buffer_.shrink_to_fit();
  // From now on answers wait while the reader is busy and leave when it reads again.
  if (!aec) ws_.next_layer().auto_cork(true);
  co_return !aec;
}

void daemon_connection::configure_stream() {
  const daemon_options& o = server_->opts;
  ws_.set_option(websocket::stream_base::timeout{o.close_timeout, websocket::stream_base::none(), false});
  websocket::permessage_deflate pmd;
  pmd.server_enable = o.permessage_deflate;
  pmd.client_enable = false;
  ws_.set_option(pmd);
  if (o.permessage_deflate) {
    // Beast agrees (or not) and inflates what it reads; the answers are framed by us, so what
    // it agreed to is read from its response, as a client reads it.
    ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
      deflater_ = deflater_for(res[http::field::sec_websocket_extensions], true, server_->opts.deflate_level);
    }));
  }
  ws_.read_message_max(o.max_message_bytes);
  // After a close frame (a message refused for its size among them), what the client still
  // sends is read and dropped for up to close_timeout, so that its close frame is not lost.
  ws_.next_layer().next_layer().set_teardown_limits({o.close_timeout, teardown_limits{}.bytes});
  ws_.auto_fragment(false);
  // Pings (and pongs) from the client count as activity for the heartbeat timeout.
  ws_.control_callback([this](websocket::frame_type, beast::string_view) { last_activity_ = clock::now(); });
  // A failed socket write ends the connection (answers are written without a write operation
  // that could report it).
  ws_.next_layer().on_error([this](const beast::error_code&) { hard_close(); });
}

asio::awaitable<void> daemon_connection::read_loop() {
  const daemon_options& o = server_->opts;
  while (!hard_closed_) {
    if (ws_.next_layer().buffered() > o.max_outbound_bytes && !closing_) {
      // Backpressure: the peer does not read its answers; stop reading its requests until
      // the socket has taken half of them (a failed write ends the wait with an error).
      auto [gec] = co_await ws_.next_layer().async_wait_below(o.max_outbound_bytes / 2, use_tuple);
      if (gec) break;
      last_activity_ = clock::now();
      continue;
    }
    auto [ec, n] = co_await ws_.async_read(buffer_, use_tuple);
    (void)n;
    if (ec) break;
    const auto received = clock::now();
    last_activity_ = received;
    if (!closing_) {
      std::string answer;
      decoder& dec = thread_decoder(o.max_message_bytes);
      try {
        if (ws_.got_text()) {
          const auto data = buffer_.data();
          answer = core_.handle_text(dec, std::string_view(static_cast<const char*>(data.data()), data.size()));
        } else {
          answer = core_.binary_answer();
        }
      } catch (const std::exception& e) {
        msg::error err;
        err.request_id = dec.request_id();
        err.request_type = dec.request_type();
        err.text = std::string("internal error: ") + e.what();
        err.code = std::string(wire_code(error::internal));
        answer = encode(message(std::move(err)));
      }
      if (!answer.empty()) deliver(std::move(answer), received);
    }
    buffer_.consume(buffer_.size());
    if (buffer_.capacity() > keep_buffer_bytes) buffer_.shrink_to_fit();
  }
}

// Data frames never pass through here (enqueue() writes them); the writer waits for the
// close, which Beast writes after every frame already appended.
asio::awaitable<void> daemon_connection::write_loop(std::shared_ptr<daemon_connection> self) {
  try {
    while (!hard_closed_) {
      if (outq_.empty()) {
        if (reader_done_) break;
        wake_.expires_at(clock::time_point::max());
        co_await wake_.async_wait(use_tuple);
        continue;
      }
      out_item item = std::move(outq_.front());
      outq_.pop_front();
      if (item.is_close) {
        auto [ec] = co_await ws_.async_close(item.reason, use_tuple);
        if (ec) hard_close();
        break;
      }
    }
  } catch (const std::exception& e) {
    log(log_level::error, "connection_failed", std::string("writer failed: ") + e.what());
    hard_close();
  }
  writer_done_ = true;
  outq_.clear();
  maybe_finish();
  (void)self;
}

void daemon_connection::deliver(std::string answer, clock::time_point received) {
  const auto delay = server_->opts.response_delay;
  if (delay.count() > 0) {
    delayed_.push_back(delayed_answer{received + delay, received, std::move(answer)});
    arm_delay();
    return;
  }
  core_.times().record(clock::now() - received);
  out_item item;
  item.own = std::move(answer);
  enqueue(std::move(item));
}

void daemon_connection::arm_delay() {
  if (delay_armed_ || delayed_.empty() || hard_closed_) return;
  if (!delay_timer_) delay_timer_ = std::make_unique<asio::steady_timer>(ws_.get_executor());
  delay_armed_ = true;
  delay_timer_->expires_at(delayed_.front().due);
  delay_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    self->delay_armed_ = false;
    if (ec || self->hard_closed_ || self->closing_) return;
    const auto now = clock::now();
    while (!self->delayed_.empty() && self->delayed_.front().due <= now) {
      delayed_answer d = std::move(self->delayed_.front());
      self->delayed_.pop_front();
      self->core_.times().record(now - d.received);
      out_item item;
      item.own = std::move(d.text);
      self->enqueue(std::move(item));
    }
    self->arm_delay();
  });
}

void daemon_connection::enqueue(out_item item) {
  if (hard_closed_ || writer_done_ || (closing_ && !item.is_close)) return;
  if (item.is_close) {
    outq_.push_back(std::move(item));
    wake_.cancel();
    return;
  }
  // Beast received or sent a close frame: no data frame may follow it.
  if (!ws_.is_open()) return;
  // A text frame, serialized straight into the socket's write buffer.
  const std::string_view text = item.text();
  auto& out = ws_.next_layer();
  if (!out.append([&](std::vector<char>& b) {
        append_text_frame(b, text, std::nullopt, deflater_.get(), server_->opts.deflate_threshold,
                          core_.counters().deflate);
      })) {
    hard_close();  // a write already failed
    return;
  }
  if (out.buffered() > server_->opts.max_outbound_bytes_hard) {
    log(log_level::warning, "connection_overloaded", "the peer does not read its messages: disconnected");
    hard_close();
  }
}

void daemon_connection::arm_watchdog(clock::time_point when) {
  watchdog_.expires_at(when);
  watchdog_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;
    self->on_watchdog();
  });
}

void daemon_connection::on_watchdog() {
  if (finished_ || hard_closed_) return;
  const auto now = clock::now();
  if (!upgraded_) {
    log(log_level::warning, "connection_refused",
        server_->tls_context ? "no TLS handshake and WebSocket upgrade within the handshake timeout"
                             : "no WebSocket upgrade within the handshake timeout");
    hard_close();
    return;
  }
  if (closing_) {
    if (now >= close_deadline_)
      hard_close();
    else
      arm_watchdog(close_deadline_);
    return;
  }
  const auto deadline = last_activity_ + server_->opts.heartbeat_timeout;
  if (now >= deadline) {
    core_.counters().heartbeat_timeouts.fetch_add(1);
    log(log_level::info, "heartbeat_timeout", "heartbeat timeout");
    begin_close(websocket::close_code::normal, "heartbeat timeout");
    return;
  }
  arm_watchdog(deadline);
}

void daemon_connection::begin_close(websocket::close_code code, std::string reason) {
  if (closing_ || hard_closed_ || finished_) return;
  if (!upgraded_ || writer_done_) {
    hard_close();
    return;
  }
  closing_ = true;
  close_code_ = static_cast<std::uint16_t>(code);
  close_reason_ = reason;
  delayed_.clear();
  if (delay_timer_) delay_timer_->cancel();
  out_item item;
  item.is_close = true;
  item.reason = websocket::close_reason(code, reason);
  enqueue(std::move(item));
  close_deadline_ = clock::now() + server_->opts.close_timeout;
  arm_watchdog(close_deadline_);
}

void daemon_connection::hard_close() {
  hard_closed_ = true;
  closing_ = true;
  beast::error_code ec;
  beast::get_lowest_layer(ws_).close(ec);
  wake_.cancel();
  watchdog_.cancel();
  if (delay_timer_) delay_timer_->cancel();
  delayed_.clear();
}

void daemon_connection::maybe_finish() {
  if (finished_ || !reader_done_ || (writer_started_ && !writer_done_)) return;
  finished_ = true;
  hard_close();
  if (counted_) {
    core_.counters().connections.fetch_sub(1);
    if (core_.logger().enabled(log_level::info)) {
      // Our close frame's code and reason, else the peer's; 1006 (abnormal) without either.
      const auto& peer = ws_.reason();
      log_record r;
      r.event = "connection_closed";
      r.code = close_code_ ? close_code_ : peer.code != websocket::close_code::none ? static_cast<int>(peer.code) : 1006;
      r.reason = close_code_ ? std::string_view(close_reason_) : std::string_view(peer.reason.data(), peer.reason.size());
      log(r);
    }
  }
  server_->remove_connection(this);
}

void daemon_connection::log(log_record r) const {
  r.connection = id_;
  core_.log(r);
}

void daemon_connection::log(log_level level, std::string_view event, std::string_view message) const {
  if (!core_.logger().enabled(level)) return;
  log_record r;
  r.level = level;
  r.event = event;
  r.message = message;
  log(r);
}

void daemon_connection::log_refused(int status, std::string_view why) const {
  if (!core_.logger().enabled(log_level::warning)) return;
  log_record r;
  r.level = log_level::warning;
  r.event = "connection_refused";
  r.code = status;
  r.message = why;
  log(r);
}

}  // namespace neolith::detail
