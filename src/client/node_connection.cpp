// One WebSocket connection of a daemon_node: the upgrade, then a reader coroutine and a
// heartbeat timer until the socket ends; frames are written as soon as they are queued, every
// frame ready at that moment in one socket write (corked_stream).
#include "node_impl.hpp"

#include <neolith/protocol/detail/json_write.hpp>
#include <neolith/transport/detail/tls_context.hpp>
#include <neolith/transport/detail/ws_deflate.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/detail/prng.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace neolith::detail {

namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

connection::connection(node_impl& node, asio::any_io_executor ex)
    : node_(node),
      ws_(ex),
      heartbeat_timer_(ex),
      liveness_(node.options.heartbeat_interval, node.options.heartbeat_timeout, steady::now()) {
  ws_.next_layer().count_writes(&node.stats.socket_writes);
}

void connection::close(error_info reason) {
  if (!reason_) reason_ = std::move(reason);
  if (resolver_) resolver_->cancel();  // open() still resolving
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close(ignored);
  heartbeat_timer_.cancel();
}

namespace {

error_info io_error(error e, const char* what, const boost::system::error_code& ec) {
  return error_info(e, std::string(what) + ": " + ec.message());
}

/// Bytes buffered for the socket above which the writer stops taking frames (they stay
/// queued in the request table) until the socket has taken half of them.
constexpr std::size_t write_limit = 256 * 1024;

/// A client frame's masking key (RFC 6455 section 5.3: unpredictable, non-zero): Beast's own
/// generator (ChaCha20, seeded from the system).
std::uint32_t mask_key() {
  static const auto generate = beast::websocket::detail::make_prng(true);
  for (;;) {
    if (const auto key = generate()) return key;
  }
}

/// The decoder of the calling thread: a decoder keeps ~36 KiB of parse arena, so one per io
/// thread rather than one per node keeps idle nodes small. It is used between two suspension
/// points only (decode, then the decoded message is self-contained), so nodes sharing the
/// thread never interleave on it.
decoder& thread_decoder(std::size_t max_message_bytes) {
  thread_local std::unique_ptr<decoder> d;
  if (!d || d->options().max_message_bytes != max_message_bytes)
    d = std::make_unique<decoder>(decode_options{max_message_bytes, max_json_depth});
  return *d;
}

}  // namespace

void connection::send_control(std::string frame) {
  control_.push_back(std::move(frame));
  wake_writer();
}

void connection::append_frame(std::string_view text) {
  ws_.next_layer().append([&](std::vector<char>& out) {
    append_text_frame(out, text, mask_key(), deflater_.get(), node_.options.deflate_threshold, node_.stats.deflate);
  });
}

void connection::wake_writer() {
  if (!writing_ || write_waiting_ || reason_) return;
  auto& out = ws_.next_layer();
  if (out.write_error()) return;  // the error callback closes the connection
  if (!ws_.is_open()) return;     // a close frame went out: no data frame may follow
  // Everything ready now leaves in one socket write: cork, append, uncork.
  out.cork();
  while (out.buffered() <= write_limit) {
    if (!control_.empty()) {
      append_frame(control_.front());
      control_.pop_front();
      continue;
    }
    const auto h = node_.table.take_next_to_send();
    if (!h) break;
    append_frame(node_.table.get(*h)->frame);
    node_.stats.frames_sent.fetch_add(1, std::memory_order_relaxed);
  }
  out.uncork();
  if (out.buffered() > write_limit && (!control_.empty() || node_.table.has_queued())) {
    // The daemon reads slower than we write: let the socket take half before going on.
    write_waiting_ = true;
    auto resume = [self = shared_from_this()](const boost::system::error_code& ec) {
      self->write_waiting_ = false;
      if (!ec) self->wake_writer();
    };
    out.async_wait_below(write_limit / 2, std::move(resume));
  }
}

void connection::start_writer() {
  writing_ = true;
  // Auto-cork: while the reader works through the answers of one socket read, the requests
  // their callers make at once are held, and leave together when the reader goes back to the
  // socket (at once when the reader is waiting on it: a lone request pays no delay).
  ws_.next_layer().auto_cork(true);
  ws_.next_layer().on_error([this](const boost::system::error_code& ec) {
    close(io_error(error::connection_lost, "writing to the daemon failed", ec));
  });
  wake_writer();  // requests queued while (re)connecting go out now
}

asio::awaitable<result<void>> connection::open() {
  const auto& ep = node_.endpoint;
  if (ep.tls && !node_.tls_context) {
    co_return node_.tls_error ? *node_.tls_error : error_info(error::tls_config, "no TLS context");
  }
  // The whole attempt (connect, TLS handshake, upgrade) is bounded by the connect timeout: a
  // watchdog (the heartbeat timer, idle until run()) closes the socket when it passes, the step
  // under way fails, and the flag tells it was the timeout. Once connected the socket is a plain
  // tcp::socket: no timer bookkeeping on each read and write, as a beast::tcp_stream has.
  struct end_of_opening {
    connection& c;
    ~end_of_opening() {
      c.opening_ = false;  // a watchdog handler already queued does nothing
      c.heartbeat_timer_.cancel();
    }
  };
  opening_ = true;
  const end_of_opening eoo{*this};
  heartbeat_timer_.expires_after(node_.options.connect_timeout);
  heartbeat_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->opening_) return;
    self->open_timed_out_ = true;
    if (self->resolver_) self->resolver_->cancel();
    boost::system::error_code ignored;
    beast::get_lowest_layer(self->ws_).close(ignored);  // the TCP socket, under TLS or not
  });

  tcp::resolver resolver(co_await asio::this_coro::executor);
  resolver_ = &resolver;  // the watchdog cancels it
  auto [rec, endpoints] = co_await resolver.async_resolve(ep.host, std::to_string(ep.port),
                                                          asio::as_tuple(asio::use_awaitable));
  resolver_ = nullptr;
  if (reason_) co_return *reason_;
  if (open_timed_out_) co_return error_info(error::connect_timeout, "resolving " + ep.host + " timed out");
  if (rec) co_return io_error(error::connect_failed, ("cannot resolve " + ep.host).c_str(), rec);

  auto [cec, connected] =
      co_await asio::async_connect(beast::get_lowest_layer(ws_), endpoints, asio::as_tuple(asio::use_awaitable));
  (void)connected;
  if (reason_) co_return *reason_;
  if (open_timed_out_) co_return error_info(error::connect_timeout, "connecting to " + ep.url() + " timed out");
  if (cec) co_return io_error(error::connect_failed, ("cannot connect to " + ep.url()).c_str(), cec);
  boost::system::error_code nec;
  beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true), nec);  // best effort

  if (ep.tls) {
    boost::system::error_code tec = start_tls();
    if (!tec) {
      auto [hec] = co_await ws_.next_layer().next_layer().tls()->async_handshake(asio::ssl::stream_base::client,
                                                                                 asio::as_tuple(asio::use_awaitable));
      tec = hec;
    }
    if (reason_) co_return *reason_;
    if (open_timed_out_) co_return error_info(error::connect_timeout, "the TLS handshake with " + ep.url() + " timed out");
    if (tec) {
      auto* t = ws_.next_layer().next_layer().tls();
      co_return error_info(error::tls_handshake_failed, "the TLS handshake with " + ep.url() + " failed: " +
                                                            tls_error_text(tec, t ? t->native_handle() : nullptr));
    }
  }

  ws_.read_message_max(node_.options.max_message_bytes);
  ws_.auto_fragment(false);
  websocket::stream_base::timeout to{};
  to.handshake_timeout = node_.options.connect_timeout;
  to.idle_timeout = websocket::stream_base::none();
  to.keep_alive_pings = false;
  ws_.set_option(to);
  websocket::permessage_deflate pmd;  // Beast negotiates and inflates; deflater_ compresses
  pmd.client_enable = node_.options.permessage_deflate;
  ws_.set_option(pmd);
  ws_.set_option(websocket::stream_base::decorator([token = node_.options.bearer_token](websocket::request_type& req) {
    req.set(http::field::user_agent, "neolith-daemon-node/0.1");
    if (token) req.set(http::field::authorization, "Bearer " + *token);
  }));
  websocket::response_type res;
  auto [hec] = co_await ws_.async_handshake(res, ep.host_header(), ep.target, asio::as_tuple(asio::use_awaitable));
  if (reason_) co_return *reason_;
  if (open_timed_out_ || hec == beast::error::timeout)
    co_return error_info(error::connect_timeout, "the WebSocket upgrade with " + ep.url() + " timed out");
  if (hec) {
    if (ep.tls && is_tls_error(hec)) {
      // TLS 1.3: the daemon checks a client certificate after the client's handshake is done,
      // and says no with an alert on the first read. (No HTTP response was read: Beast leaves
      // `res` at 500 then.)
      auto* t = ws_.next_layer().next_layer().tls();
      co_return error_info(error::tls_handshake_failed, "the daemon at " + ep.url() + " refused the TLS session: " +
                                                            tls_error_text(hec, t ? t->native_handle() : nullptr));
    }
    if (res.result() == http::status::unauthorized)
      co_return error_info(error::unauthorized, "the daemon at " + ep.url() + " refused the credentials (HTTP 401)");
    if (res.result_int() != 0 && res.result() != http::status::switching_protocols)
      co_return error_info(error::connect_failed, "the daemon at " + ep.url() + " refused the upgrade: HTTP " +
                                                      std::to_string(res.result_int()));
    co_return io_error(error::connect_failed, ("the WebSocket upgrade with " + ep.url() + " failed").c_str(), hec);
  }
  // What the daemon agreed to (Beast accepted the answer, and inflates what it sends).
  if (node_.options.permessage_deflate)
    deflater_ = deflater_for(res[http::field::sec_websocket_extensions], false, node_.options.deflate_level);
  // From now on liveness is ours (heartbeats), not a socket timeout (end_of_opening stops the
  // watchdog).
  liveness_ = liveness_monitor<steady>(node_.options.heartbeat_interval, node_.options.heartbeat_timeout, steady::now());
  // Any frame counts as a sign of life, control frames (pong, ping) included.
  ws_.control_callback([this](websocket::frame_type, beast::string_view) { liveness_.on_received(steady::now()); });
  co_return outcome::success();
}

boost::system::error_code connection::start_tls() {
  auto& t = ws_.next_layer().next_layer().start_tls(*node_.tls_context);
  const std::string& name = node_.tls_server_name;
  if (!set_sni(t.native_handle(), name)) return asio::ssl::error::unspecified_system_error;
  boost::system::error_code ec;
  if (node_.options.tls.verify_peer) {
    t.set_verify_mode(asio::ssl::verify_peer, ec);
    if (!ec) t.set_verify_callback(tls_host_check(name), ec);
  } else {
    t.set_verify_mode(asio::ssl::verify_none, ec);
  }
  return ec;
}

asio::awaitable<error_info> connection::run() {
  auto self = shared_from_this();
  start_writer();
  heartbeat_tick();
  co_await read_loop(self);
  // The reader ends when the socket does: a read error, or close() (a dead peer, disconnect())
  // which gave the reason first. Make sure the socket is closed.
  close(error_info(error::connection_lost, "the connection ended"));
  co_return *reason_;
}

asio::awaitable<void> connection::read_loop([[maybe_unused]] std::shared_ptr<connection> self) {
  for (;;) {
    auto [ec, n] = co_await ws_.async_read(read_buf_, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) {
      if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) {
        close(error_info(error::message_too_large, "the daemon sent a frame above the maximum message size of " +
                                                       std::to_string(node_.options.max_message_bytes) + " bytes"));
      } else if (ec == websocket::error::closed) {
        const auto& cr = ws_.reason();
        close(error_info(error::connection_lost, "the daemon closed the connection (code " +
                                                     std::to_string(static_cast<int>(cr.code)) +
                                                     (cr.reason.empty() ? std::string() : ", " + std::string(cr.reason.begin(), cr.reason.end())) + ")"));
      } else {
        close(io_error(error::connection_lost, "the connection broke", ec));
      }
      co_return;
    }
    liveness_.on_received(steady::now());
    bool asked_again = false;
    if (!ws_.got_text()) {
      node_.stats.invalid_frames.fetch_add(1, std::memory_order_relaxed);
      node_.emit(event::error{error_info(error::invalid_message, "the daemon sent a binary frame; ignored")});
    } else {
      const auto pending = node_.posted_pending.load(std::memory_order_acquire);
      const auto data = read_buf_.cdata();
      node_.on_frame(*this, std::string_view(static_cast<const char*>(data.data()), data.size()));
      asked_again = node_.posted_pending.load(std::memory_order_acquire) > pending;
    }
    read_buf_.consume(read_buf_.size());
    if (reason_) co_return;
    // A caller resumed by this answer (inline, on this thread) may have asked again: its
    // request waits on the strand behind us. Let it be submitted first, so that the next read
    // flushes it and then reads. On one core the daemon answers during that write and the read
    // finds the answer, where reading first fails with EAGAIN and parks in the reactor (a
    // system call and a reactor round per request less; docs/performance.md).
    if (asked_again) {
      co_await asio::post(asio::use_awaitable);
      if (reason_) co_return;
    }
  }
}

// A timer callback rather than a coroutine: an idle connection keeps no coroutine frame for
// it. The pending wait holds the connection; close() cancels it.
void connection::heartbeat_tick() {
  using action = liveness_monitor<steady>::action;
  if (reason_) return;
  switch (liveness_.poll(steady::now())) {
    case action::peer_dead:
      close(error_info(error::heartbeat_timeout, "nothing received from the daemon for " +
                                                     std::to_string(node_.options.heartbeat_timeout.count()) + " ms"));
      return;
    case action::send_heartbeat: {
      msg::heartbeat hb;
      hb.time = now_timestamp();
      send_control(encode(message(std::move(hb))));
      node_.stats.heartbeats_sent.fetch_add(1, std::memory_order_relaxed);
      break;
    }
    case action::none: break;
  }
  heartbeat_timer_.expires_at(liveness_.next_wakeup());
  auto on_timer = [self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->heartbeat_tick();
  };
  heartbeat_timer_.async_wait(std::move(on_timer));
}

// ----- Frames from the daemon ----------------------------------------------------------

namespace {

// The object of a frame the decoder found well-formed but of an unknown type, read as the
// wire wrote it (numbers exactly); nullopt if it is not one after all.
std::optional<boost::json::object> unknown_message(std::string_view text) {
  boost::json::value v = parse_exact(text, {});
  if (auto* o = v.if_object()) return std::move(*o);
  return std::nullopt;
}

}  // namespace

void node_impl::on_frame(connection& c, std::string_view text) {
  decoder& dec = thread_decoder(options.max_message_bytes);
  auto r = dec.decode(text);
  if (!r) {
    const auto& rid = dec.request_id();
    const std::optional<request_handle> h = rid ? table.find(*rid) : std::nullopt;
    // A well-formed message of a type we do not know (a newer daemon's push) that answers no
    // pending request reaches the application as it came (the seed passes every unsolicited
    // message on). Only this error path parses the text again.
    if (r.error().code == error::unknown_type && !h) {
      if (auto unknown = unknown_message(text)) return emit(event::message{message{}, std::move(unknown)});
    }
    stats.invalid_frames.fetch_add(1, std::memory_order_relaxed);
    error_info e(r.error().code, "the daemon sent an invalid frame: " + r.error().what());
    // An answer we can attribute fails its request at once rather than by its deadline.
    if (h) return complete(*h, std::move(e));
    emit(event::error{std::move(e)});
    return;
  }
  message& m = r.value();
  if (const auto& rid = request_id_of(m)) {
    const auto h = table.find(*rid);
    if (!h) {
      stats.unmatched_replies.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const auto* e = table.get(*h);
    const auto t = type_of(m);
    if (auto* err = std::get_if<msg::error>(&m)) {
      stats.answered.fetch_add(1, std::memory_order_relaxed);
      return complete(*h, error_info(error_from_wire_code(err->code),
                                     err->text.empty() ? err->code : err->text));
    }
    if (static_cast<int>(t) != e->kind) {
      return complete(*h, error_info(error::unexpected_response,
                                     "the daemon answered with '" + std::string(to_string(t)) + "'"));
    }
    stats.answered.fetch_add(1, std::memory_order_relaxed);
    return complete(*h, std::move(m));
  }
  switch (type_of(m)) {
    case message_type::heartbeat: {
      auto& hb = std::get<msg::heartbeat>(m);
      if (hb.health) set_health(*hb.health);
      msg::heartbeat_ack ack;
      ack.time = now_timestamp().time_since_epoch().count();
      c.send_control(encode(message(std::move(ack))));
      return;
    }
    case message_type::heartbeat_ack: return;  // liveness already noted
    case message_type::error: {
      auto& err = std::get<msg::error>(m);
      emit(event::error{error_info(error_from_wire_code(err.code), err.text)});
      return;
    }
    default: emit(event::message{std::move(m), std::nullopt}); return;
  }
}

asio::awaitable<result<std::shared_ptr<connection>>> node_impl::connect_once() {
  attempt = std::make_shared<connection>(*this, strand);
  auto c = attempt;
  auto r = co_await c->open();
  attempt.reset();
  if (!r) {
    c->close(r.error());
    co_return r.error();
  }
  co_return c;
}

}  // namespace neolith::detail
