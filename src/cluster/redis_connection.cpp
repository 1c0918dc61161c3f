#include <neolith/cluster/detail/redis_connection.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <optional>

namespace neolith::cluster::detail {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct redis_connection::pending {
  explicit pending(const strand_type& s) : timer(s) {}
  std::string payload;
  asio::steady_timer timer;  ///< the request's deadline; cancelled when it completes
  std::optional<result<redis_reply>> outcome;
  bool abandoned = false;  ///< its caller stopped waiting (timeout, cancellation)

  void complete(result<redis_reply> r) {
    if (outcome) return;
    outcome = std::move(r);
    timer.cancel();
  }
};

std::shared_ptr<redis_connection> redis_connection::create(asio::any_io_executor ex, redis_connection_options opts) {
  return std::make_shared<redis_connection>(std::move(ex), std::move(opts));
}

redis_connection::redis_connection(asio::any_io_executor ex, redis_connection_options opts)
    : strand_(asio::make_strand(ex)),
      opts_(std::move(opts)),
      fsm_(neolith::detail::backoff_policy(opts_.reconnect_base, opts_.reconnect_max, opts_.max_reconnect_attempts,
                                           opts_.reconnect_jitter)),
      socket_(strand_),
      write_signal_(strand_),
      wait_timer_(strand_),
      rng_(neolith::detail::small_rng::from_random_device()) {}

void redis_connection::start() {
  asio::co_spawn(strand_, [self = shared_from_this()]() { return self->run(); }, asio::detached);
}

void redis_connection::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->wait_timer_.cancel();
    self->write_signal_.cancel();
    boost::system::error_code ignored;
    self->socket_.close(ignored);
    self->fail_all({error::shutting_down, "the registry's Redis connection is stopping"});
  });
}

void redis_connection::set_connected(bool up) {
  connected_.store(up, std::memory_order_release);
  if (up) connections_.fetch_add(1, std::memory_order_acq_rel);
}

void redis_connection::fail_all(const error_info& why) {
  auto in_flight = std::move(in_flight_);
  auto to_write = std::move(to_write_);
  in_flight_.clear();
  to_write_.clear();
  for (auto& p : in_flight) p->complete(why);
  for (auto& p : to_write) p->complete(why);
}

asio::awaitable<result<redis_reply>> redis_connection::exec(std::vector<std::string> args,
                                                          std::chrono::milliseconds timeout) {
  // co_spawn needs a default-constructible value: the result travels in an optional.
  auto self = shared_from_this();
  auto r = co_await asio::co_spawn(strand_, self->exec_on_strand(std::move(args), timeout), asio::use_awaitable);
  co_return std::move(*r);
}

asio::awaitable<std::optional<result<redis_reply>>> redis_connection::exec_on_strand(std::vector<std::string> args,
                                                                    std::chrono::milliseconds timeout) {
  if (stopped_) co_return error_info(error::shutting_down, "the registry's Redis connection is stopped");
  if (!fsm_.accepting_requests()) {
    co_return error_info(error::registry_unavailable,
                         "Redis at " + opts_.address.url() + " is not reachable: " + last_error_);
  }
  auto p = std::make_shared<pending>(strand_);
  p->payload = format_command(args);
  p->timer.expires_after(timeout);
  to_write_.push_back(p);
  write_signal_.cancel();
  auto [ec] = co_await p->timer.async_wait(nothrow);
  if (p->outcome) co_return std::move(p->outcome);
  p->abandoned = true;
  if (!ec) {
    co_return error_info(error::timeout, "no reply from Redis at " + opts_.address.url() + " within " +
                                             std::to_string(timeout.count()) + " ms");
  }
  co_return error_info(error::cancelled, "the Redis request was cancelled");
}

asio::awaitable<void> redis_connection::run() {
  auto self = shared_from_this();
  auto unit_random = [this] { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; };
  auto action = fsm_.start();
  for (;;) {
    // A stop that arrived while this loop was suspended wins over the next step.
    if (stopped_ && action.what != redis_run_action::kind::stop) action = fsm_.on_stop();
    switch (action.what) {
      case redis_run_action::kind::connect: {
        auto r = co_await connect_once();
        if (stopped_) {
          action = fsm_.on_stop();
        } else if (r) {
          action = fsm_.on_connect_result(true);
          set_connected(true);
        } else {
          last_error_ = r.error().what();
          boost::system::error_code ignored;
          socket_.close(ignored);
          action = fsm_.on_connect_result(false, unit_random());
        }
        break;
      }
      case redis_run_action::kind::run: {
        co_await (reader() || writer());
        set_connected(false);
        boost::system::error_code ignored;
        socket_.close(ignored);
        last_error_ = "the connection was lost";
        fail_all({error::registry_unavailable, "the connection to Redis at " + opts_.address.url() +
                                                   " was lost before the reply (the outcome is unknown)"});
        action = stopped_ ? fsm_.on_stop() : fsm_.on_connection_lost(unit_random());
        break;
      }
      case redis_run_action::kind::wait: {
        wait_timer_.expires_after(action.delay);
        co_await wait_timer_.async_wait(nothrow);
        action = stopped_ ? fsm_.on_stop() : fsm_.on_wait_done();
        break;
      }
      case redis_run_action::kind::stop:
        set_connected(false);
        fail_all({error::shutting_down, "the registry's Redis connection stopped"});
        co_return;
    }
  }
}

asio::awaitable<result<void>> redis_connection::connect_once() {
  wait_timer_.expires_after(opts_.connect_timeout);
  auto outcome = co_await (open_socket() || wait_timer_.async_wait(nothrow));
  if (outcome.index() == 1) {
    co_return error_info(error::connect_timeout, "connecting to Redis at " + opts_.address.url() + " took more than " +
                                                     std::to_string(opts_.connect_timeout.count()) + " ms");
  }
  co_return std::get<0>(std::move(outcome));
}

asio::awaitable<result<void>> redis_connection::open_socket() {
  const auto& a = opts_.address;
  auto failed = [&a](std::string_view what, const boost::system::error_code& ec) {
    return error_info(error::connect_failed,
                      std::string(what) + " Redis at " + a.url() + " failed: " + ec.message());
  };
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (a.unix_socket) {
    const asio::generic::stream_protocol::endpoint ep{asio::local::stream_protocol::endpoint(a.path)};
    auto [ec] = co_await socket_.async_connect(ep, nothrow);
    if (ec) co_return failed("connecting to", ec);
  } else {
    asio::ip::tcp::resolver resolver(strand_);
    auto [rec, endpoints] = co_await resolver.async_resolve(a.host, std::to_string(a.port), nothrow);
    if (rec) co_return failed("resolving", rec);
    boost::system::error_code ec = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
      socket_.close(ignored);
      const asio::generic::stream_protocol::endpoint ep{entry.endpoint()};
      std::tie(ec) = co_await socket_.async_connect(ep, nothrow);
      if (!ec) break;
    }
    if (ec) co_return failed("connecting to", ec);
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  if (a.db != 0) {
    // SELECT before anything else; its reply is read here, outside the pipeline.
    const auto cmd = format_command({"SELECT", std::to_string(a.db)});
    auto [wec, wn] = co_await asio::async_write(socket_, asio::buffer(cmd), nothrow);
    if (wec) co_return failed("selecting the database of", wec);
    resp_reader rd;
    std::array<char, 512> buf{};
    for (;;) {
      auto [rec, n] = co_await socket_.async_read_some(asio::buffer(buf), nothrow);
      if (rec) co_return failed("selecting the database of", rec);
      if (auto f = rd.feed(buf.data(), n); !f) co_return f.error();
      auto reply = rd.next();
      if (!reply) co_return reply.error();
      if (!reply.value()) continue;
      if (reply.value()->is_error())
        co_return error_info(error::connect_failed, "Redis at " + a.url() + " refused SELECT: " + reply.value()->str);
      break;
    }
  }
  co_return outcome::success();
}

asio::awaitable<void> redis_connection::writer() {
  std::string batch;
  for (;;) {
    if (to_write_.empty()) {
      write_signal_.expires_at(asio::steady_timer::time_point::max());
      co_await write_signal_.async_wait(nothrow);
      const auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none || stopped_) co_return;
      continue;
    }
    // Everything queued goes out in one write; the replies come back in this order.
    batch.clear();
    for (auto& p : to_write_) {
      if (p->abandoned || p->outcome) continue;
      batch += p->payload;
      in_flight_.push_back(std::move(p));
    }
    to_write_.clear();
    if (batch.empty()) continue;
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(batch), nothrow);
    if (ec) co_return;
  }
}

asio::awaitable<void> redis_connection::reader() {
  resp_reader rd;
  std::array<char, 16384> buf{};
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), nothrow);
    if (ec) co_return;
    if (auto f = rd.feed(buf.data(), n); !f) {
      fail_all(f.error());
      co_return;
    }
    for (;;) {
      auto reply = rd.next();
      if (!reply) {
        fail_all(reply.error());
        co_return;
      }
      auto& got = reply.value();
      if (!got) break;
      if (in_flight_.empty()) {
        fail_all({error::registry_protocol,
                  "Redis at " + opts_.address.url() + " sent a reply nobody asked for: " + got->describe()});
        co_return;
      }
      auto p = std::move(in_flight_.front());
      in_flight_.pop_front();
      p->complete(std::move(*got));
    }
  }
}

}  // namespace neolith::cluster::detail
