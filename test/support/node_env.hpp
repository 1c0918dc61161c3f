// What the daemon_node tests share: a daemon that can be killed and restarted on the same
// port, a scripted WebSocket peer (for answers no real daemon gives: garbage, silence, wrong
// types), and a bounded way to run a coroutine to completion.
#pragma once

#include "support/daemon_fixture.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/daemon/daemon_server.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace neolith::test {

using namespace std::chrono_literals;

/// A daemon on its own io_context and threads that a test can kill (abort: sockets closed at
/// once, as in a crash) and start again on the same port.
class restartable_daemon {
 public:
  explicit restartable_daemon(daemon_options opts = test_daemon_options(), unsigned threads = 1);
  ~restartable_daemon();

  std::uint16_t port() const { return port_; }
  node_endpoint endpoint() const { return node_endpoint::ws("127.0.0.1", port_); }
  /// The running server (null while killed).
  daemon_server* server() { return server_.get(); }
  /// abort() and wait until fully stopped; the server is gone.
  void kill();
  /// stop() gracefully and wait.
  void stop();
  /// A new server on the same port.
  void start();

 private:
  daemon_options opts_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<daemon_server> server_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
};

/// A WebSocket server on 127.0.0.1 whose every connection runs `script` after the upgrade.
class scripted_peer {
 public:
  using ws_stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;
  using script = std::function<boost::asio::awaitable<void>(std::shared_ptr<ws_stream>)>;
  /// Sets a connection's stream options before the upgrade (e.g. permessage-deflate).
  using configure = std::function<void(ws_stream&)>;

  scripted_peer(boost::asio::any_io_executor ex, script s, configure c = {});
  ~scripted_peer();
  std::uint16_t port() const { return port_; }
  node_endpoint endpoint() const { return node_endpoint::ws("127.0.0.1", port_); }
  std::size_t connections() const { return *connections_; }

 private:
  std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::shared_ptr<std::size_t> connections_ = std::make_shared<std::size_t>(0);
  std::uint16_t port_ = 0;
};

/// Reads one text frame from a scripted peer's stream (empty optional on error).
boost::asio::awaitable<std::optional<std::string>> read_text(scripted_peer::ws_stream& ws);
/// Writes one text frame.
boost::asio::awaitable<bool> write_text(scripted_peer::ws_stream& ws, std::string text);

/// Node options with every interval scaled to milliseconds.
node_options fast_node_options();

/// A spawn request for a task `task_id`.
session_spawn_request make_spawn(std::string task_id, session_type t = session_type::claude_code);

/// The capabilities of a test daemon (both session types, 100 sessions).
node_capabilities test_capabilities();

/// Spawns every request of `requests` through `node` at once, waits until all are written,
/// crashes the daemon (`kill`: a daemon holding its answers back, `response_delay`, has sent
/// none), waits for the node to notice, starts the daemon again on the same port and waits for
/// every result (the test fails when a step does not happen within its bound). The results, in
/// the order of `requests`.
std::vector<result<session>> spawn_through_a_crash(restartable_daemon& daemon, boost::asio::io_context& ioc,
                                                   daemon_node& node, std::vector<session_spawn_request> requests);

/// Runs `a` on `ioc` (in this thread) until it completes or `limit` passes (then the test
/// fails). Exceptions from the coroutine are rethrown.
template <class T>
T run(boost::asio::io_context& ioc, boost::asio::awaitable<T> a, std::chrono::milliseconds limit = 10s) {
  // The results of neolith have no default constructor: co_spawn a void coroutine that keeps it.
  auto out = std::make_shared<std::optional<T>>();
  auto keep = [](boost::asio::awaitable<T> inner, std::shared_ptr<std::optional<T>> o) -> boost::asio::awaitable<void> {
    o->emplace(co_await std::move(inner));
  };
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(ioc, keep(std::move(a), out), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    ioc.restart();
    ioc.run_one_for(5ms);
  }
  BOOST_TEST_REQUIRE(done, "the coroutine did not complete within the time limit");
  if (failure) std::rethrow_exception(failure);
  return std::move(**out);
}

template <>
inline void run<void>(boost::asio::io_context& ioc, boost::asio::awaitable<void> a, std::chrono::milliseconds limit) {
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    ioc.restart();
    ioc.run_one_for(5ms);
  }
  BOOST_TEST_REQUIRE(done, "the coroutine did not complete within the time limit");
  if (failure) std::rethrow_exception(failure);
}

/// Runs `ioc` until it has no work left (bounded): after a node is destroyed, its connection
/// closes and its coroutines end.
void drain(boost::asio::io_context& ioc, std::chrono::milliseconds limit = 5s);

/// Runs `ioc` in this thread until `pred` holds or `limit` passes; returns whether it held.
bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s);

}  // namespace neolith::test
