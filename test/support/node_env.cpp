#include "support/node_env.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

#include "support/wait.hpp"

namespace neolith::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// ----- restartable_daemon -------------------------------------------------------------------

restartable_daemon::restartable_daemon(daemon_options opts, unsigned threads)
    : opts_(std::move(opts)), work_(ioc_.get_executor()) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
  start();
}

restartable_daemon::~restartable_daemon() {
  if (server_) kill();
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
}

void restartable_daemon::start() {
  BOOST_TEST_REQUIRE(!server_);
  auto o = opts_;
  o.port = port_;
  server_ = std::make_unique<daemon_server>(ioc_, o);
  auto ep = server_->start();
  BOOST_TEST_REQUIRE(ep.has_value(), "daemon failed to start: " << (ep ? "" : ep.error().what()));
  port_ = ep.value().port();
}

void restartable_daemon::kill() {
  BOOST_TEST_REQUIRE(server_);
  server_->abort();
  auto* s = server_.get();
  BOOST_TEST_REQUIRE(wait_until([s] { return s->stopped(); }, 5s));
  server_.reset();
}

void restartable_daemon::stop() {
  BOOST_TEST_REQUIRE(server_);
  server_->stop();
  auto* s = server_.get();
  BOOST_TEST_REQUIRE(wait_until([s] { return s->stopped(); }, 5s));
  server_.reset();
}

// ----- scripted_peer ------------------------------------------------------------------------

namespace {

asio::awaitable<void> serve(std::shared_ptr<tcp::acceptor> acceptor, std::shared_ptr<std::size_t> count,
                            scripted_peer::script s, scripted_peer::configure c) {
  for (;;) {
    auto [ec, sock] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    ++*count;
    auto ws = std::make_shared<scripted_peer::ws_stream>(std::move(sock));
    if (c) c(*ws);
    asio::co_spawn(
        acceptor->get_executor(),
        [](std::shared_ptr<scripted_peer::ws_stream> ws, scripted_peer::script s) -> asio::awaitable<void> {
          auto [hec] = co_await ws->async_accept(asio::as_tuple(asio::use_awaitable));
          if (hec) co_return;
          co_await s(ws);
        }(ws, s),
        asio::detached);
  }
}

}  // namespace

scripted_peer::scripted_peer(asio::any_io_executor ex, script s, configure c)
    : acceptor_(std::make_shared<tcp::acceptor>(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0))) {
  port_ = acceptor_->local_endpoint().port();
  asio::co_spawn(ex, serve(acceptor_, connections_, std::move(s), std::move(c)), asio::detached);
}

scripted_peer::~scripted_peer() {
  boost::system::error_code ignored;
  acceptor_->close(ignored);
}

asio::awaitable<std::optional<std::string>> read_text(scripted_peer::ws_stream& ws) {
  beast::flat_buffer buf;
  auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
  (void)n;
  if (ec) co_return std::nullopt;
  co_return beast::buffers_to_string(buf.data());
}

asio::awaitable<bool> write_text(scripted_peer::ws_stream& ws, std::string text) {
  ws.text(true);
  auto [ec, n] = co_await ws.async_write(asio::buffer(text), asio::as_tuple(asio::use_awaitable));
  (void)n;
  co_return !ec;
}

// ----- helpers ------------------------------------------------------------------------------

node_options fast_node_options() {
  node_options o;
  o.connect_timeout = 2000ms;
  o.request_timeout = 5000ms;
  o.health_timeout = 2000ms;
  o.heartbeat_interval = 50ms;
  o.heartbeat_timeout = 2000ms;
  o.backoff_base = 10ms;
  o.backoff_max = 100ms;
  o.max_attempts = 10;
  o.jitter = 0.0;
  return o;
}

session_spawn_request make_spawn(std::string task_id, session_type t) {
  session_spawn_request r;
  r.orchestrator_id = "orchestrator-test";
  r.type = t;
  r.task.id = std::move(task_id);
  r.task.type = task_type::code;
  r.task.description = "test task " + r.task.id;
  r.task.priority = task_priority::high;
  r.task.status = task_status::pending;
  r.task.created_at = now_timestamp();
  r.task.updated_at = r.task.created_at;
  return r;
}

node_capabilities test_capabilities() {
  node_capabilities c;
  c.can_spawn_sessions = true;
  c.max_concurrent_sessions = 100;
  c.supported_session_types = {session_type::claude_code, session_type::claude_flow};
  return c;
}

void drain(asio::io_context& ioc, std::chrono::milliseconds limit) {
  ioc.restart();
  ioc.run_for(limit);
}

bool run_until(asio::io_context& ioc, const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ioc.restart();
    ioc.run_one_for(2ms);
  }
  return true;
}

namespace {

asio::awaitable<void> spawn_into(daemon_node& node, session_spawn_request r, std::optional<result<session>>& slot) {
  auto s = co_await node.spawn_session(std::move(r));
  slot.emplace(std::move(s));
}

}  // namespace

std::vector<result<session>> spawn_through_a_crash(restartable_daemon& daemon, asio::io_context& ioc,
                                                   daemon_node& node, std::vector<session_spawn_request> requests) {
  const std::size_t n = requests.size();
  std::vector<std::optional<result<session>>> slots(n);
  for (std::size_t i = 0; i < n; ++i)
    asio::co_spawn(ioc, spawn_into(node, std::move(requests[i]), slots[i]), asio::detached);
  const auto before = node.statistics().frames_sent;
  // Written (the daemon holds the answers back), then the daemon crashes.
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return node.statistics().frames_sent >= before + n; }, 5s));
  daemon.kill();
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return node.state() == connection_state::reconnecting; }, 5s));
  daemon.start();
  BOOST_TEST_REQUIRE(run_until(ioc, [&] {
    return std::all_of(slots.begin(), slots.end(), [](const auto& r) { return r.has_value(); });
  }, 10s));
  std::vector<result<session>> out;
  out.reserve(n);
  for (auto& s : slots) out.push_back(std::move(*s));
  return out;
}

}  // namespace neolith::test
