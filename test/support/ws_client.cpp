#include "support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace neolith::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

ws_client::ws_client() : ws_(ioc_) {}

ws_client::~ws_client() {
  error_code ec;
  beast::get_lowest_layer(ws_).close(ec);
  ioc_.restart();
  ioc_.run_for(1s);  // let cancelled handlers finish (bounded)
}

error_code ws_client::run_op(const std::function<void(std::function<void(error_code)>)>& start,
                             std::chrono::milliseconds timeout) {
  bool done = false;
  error_code result;
  start([&](error_code ec) {
    done = true;
    result = ec;
  });
  const auto deadline = clock_type::now() + timeout;
  while (!done && clock_type::now() < deadline) {
    if (ioc_.stopped()) ioc_.restart();
    ioc_.run_one_until(deadline);
  }
  if (!done) {
    error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
    const auto hard = clock_type::now() + 2s;
    while (!done && clock_type::now() < hard) {
      if (ioc_.stopped()) ioc_.restart();
      ioc_.run_one_until(hard);
    }
    return asio::error::timed_out;
  }
  return result;
}

error_code ws_client::connect(std::uint16_t port, std::chrono::milliseconds timeout) {
  ws_connect_options o;
  o.port = port;
  return connect(o, timeout);
}

error_code ws_client::connect(const ws_connect_options& o, std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()));
  };
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(o.host), o.port);
  auto ec = run_op([&](auto done) { beast::get_lowest_layer(ws_).async_connect(ep, done); }, left());
  if (ec) return ec;
  beast::get_lowest_layer(ws_).set_option(asio::ip::tcp::no_delay(true));
  ws_.read_message_max(o.max_message_bytes);
  websocket::permessage_deflate pmd;
  pmd.client_enable = o.offer_deflate;
  pmd.server_max_window_bits = o.deflate_server_window_bits;
  ws_.set_option(pmd);
  if (o.authorization) {
    const std::string auth = *o.authorization;
    ws_.set_option(websocket::stream_base::decorator(
        [auth](websocket::request_type& req) { req.set(http::field::authorization, auth); }));
  }
  websocket::response_type res;
  const std::string host = o.host + ":" + std::to_string(o.port);
  ec = run_op([&](auto done) { ws_.async_handshake(res, host, o.target, done); }, left());
  http_status_ = static_cast<int>(res.result_int());
  extensions_ = std::string(res[http::field::sec_websocket_extensions]);
  if (ec) return ec;
  connected_ = true;
  start_read();
  return {};
}

bool ws_client::deflate_negotiated() const {
  return extensions_.find("permessage-deflate") != std::string::npos;
}

void ws_client::start_read() {
  if (reading_ || ended_) return;
  reading_ = true;
  ws_.async_read(buffer_, [this](error_code ec, std::size_t) {
    reading_ = false;
    if (ec) {
      ended_ = true;
      end_ec_ = ec;
      return;
    }
    inbox_.push_back(ws_message{ws_.got_text(), beast::buffers_to_string(buffer_.data())});
    buffer_.consume(buffer_.size());
    start_read();
  });
}

error_code ws_client::send_text(std::string_view s, std::chrono::milliseconds timeout) {
  return run_op(
      [&](auto done) {
        ws_.text(true);
        ws_.async_write(asio::buffer(s.data(), s.size()), [done](error_code ec, std::size_t) { done(ec); });
      },
      timeout);
}

error_code ws_client::send_binary(std::string_view s, std::chrono::milliseconds timeout) {
  return run_op(
      [&](auto done) {
        ws_.binary(true);
        ws_.async_write(asio::buffer(s.data(), s.size()), [done](error_code ec, std::size_t) { done(ec); });
      },
      timeout);
}

error_code ws_client::send_json(const boost::json::object& o, std::chrono::milliseconds timeout) {
  return send_text(boost::json::serialize(o), timeout);
}

error_code ws_client::ping(std::chrono::milliseconds timeout) {
  return run_op([&](auto done) { ws_.async_ping({}, done); }, timeout);
}

error_code ws_client::close(websocket::close_code code, std::chrono::milliseconds timeout) {
  auto ec = run_op([&](auto done) { ws_.async_close(code, done); }, timeout);
  return ec;
}

void ws_client::drop() {
  error_code ec;
  beast::get_lowest_layer(ws_).close(ec);
}

std::optional<ws_message> ws_client::next(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  while (inbox_.empty() && !ended_ && clock_type::now() < deadline) {
    if (ioc_.stopped()) ioc_.restart();
    if (ioc_.run_one_until(deadline) == 0 && ioc_.stopped() && !reading_) break;
  }
  // Handlers that are already ready (e.g. the message completing with the close).
  if (inbox_.empty()) {
    if (ioc_.stopped()) ioc_.restart();
    ioc_.poll();
  }
  if (inbox_.empty()) return std::nullopt;
  ws_message m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

std::optional<boost::json::object> ws_client::next_json(std::chrono::milliseconds timeout) {
  // No Boost.Test macros here: clients may be driven from several test threads at once, and
  // Boost.Test is not thread-safe. A message that is not a JSON object ends the wait and is
  // reported by problem().
  auto m = next(timeout);
  if (!m) return std::nullopt;
  if (!m->text) {
    problem_ = "a binary message from the daemon";
    return std::nullopt;
  }
  error_code ec;
  auto v = boost::json::parse(m->data, ec);
  if (ec || !v.is_object()) {
    problem_ = "not a JSON object: " + m->data.substr(0, 200);
    return std::nullopt;
  }
  return std::move(v.as_object());
}

std::optional<boost::json::object> ws_client::next_matching(
    const std::function<bool(const boost::json::object&)>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) return std::nullopt;
    auto o = next_json(left);
    if (!o) return std::nullopt;
    if (pred(*o)) return o;
  }
}

std::optional<boost::json::object> ws_client::next_answer(std::chrono::milliseconds timeout) {
  return next_matching(
      [](const boost::json::object& o) {
        const auto* t = o.if_contains("type");
        return !(t && t->is_string() && t->as_string() == "heartbeat");
      },
      timeout);
}

std::optional<boost::json::object> ws_client::request(boost::json::object req, std::string_view id,
                                                      std::chrono::milliseconds timeout) {
  if (!id.empty()) req["requestId"] = id;
  if (send_json(req, timeout)) return std::nullopt;
  return next_matching(
      [&](const boost::json::object& o) {
        const auto* r = o.if_contains("requestId");
        return r && r->is_string() && r->as_string() == id;
      },
      timeout);
}

bool ws_client::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  while (!ended_ && clock_type::now() < deadline) {
    if (ioc_.stopped()) ioc_.restart();
    if (ioc_.run_one_until(deadline) == 0 && ioc_.stopped() && !reading_) break;
  }
  return ended_;
}

websocket::close_reason ws_client::close_reason() const { return ws_.reason(); }

http_reply http_get(std::uint16_t port, const std::map<std::string, std::string>& headers,
                    std::chrono::milliseconds timeout) {
  http_reply out;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  error_code ec;
  sock.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return out;
  http::request<http::empty_body> req{http::verb::get, "/", 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  http::write(sock, req, ec);
  if (ec) return out;
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  bool done = false;
  http::async_read(sock, buf, res, [&](error_code e, std::size_t) {
    done = true;
    ec = e;
  });
  ioc.run_for(timeout);
  if (!done) return out;
  if (ec && ec != http::error::end_of_stream) return out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) out.headers[std::string(f.name_string())] = std::string(f.value());
  out.body = res.body();
  return out;
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  error_code ec;
  sock.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {};
  asio::write(sock, asio::buffer(bytes.data(), bytes.size()), ec);
  std::string out;
  std::array<char, 4096> chunk{};
  bool finished = false;
  std::function<void()> read_more = [&] {
    sock.async_read_some(asio::buffer(chunk), [&](error_code e, std::size_t n) {
      out.append(chunk.data(), n);
      if (e) {
        finished = true;
        return;
      }
      read_more();
    });
  };
  read_more();
  ioc.run_for(timeout);
  (void)finished;
  return out;
}

}  // namespace neolith::test
