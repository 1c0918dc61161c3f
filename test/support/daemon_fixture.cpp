#include "support/daemon_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <future>

namespace neolith::test {

daemon_options test_daemon_options() {
  daemon_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.node_id = "test-node";
  o.thresholds.degraded_cpu = 101;
  o.thresholds.unhealthy_cpu = 101;
  o.thresholds.degraded_memory = 101;
  o.thresholds.unhealthy_memory = 101;
  o.thresholds.degraded_response_ms = 1e9;
  o.thresholds.unhealthy_response_ms = 1e9;
  o.terminate_grace = std::chrono::milliseconds(1000);
  if (std::getenv("NEOLITH_TEST_LOG"))
    o.log = [](std::string_view line) {
      std::fprintf(stderr, "daemon: %.*s\n", static_cast<int>(line.size()), line.data());
    };
  return o;
}

daemon_fixture::daemon_fixture(daemon_options opts, unsigned threads)
    : work_(boost::asio::make_work_guard(ioc_)), server_(std::make_unique<daemon_server>(ioc_, std::move(opts))) {
  auto ep = server_->start();
  BOOST_TEST_REQUIRE(ep.has_value(), "daemon start: " << (ep ? std::string() : ep.error().what()));
  port_ = ep.value().port();
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
}

daemon_fixture::~daemon_fixture() {
  if (!server_->stopped() && !stop_and_wait(5s)) {
    std::fprintf(stderr, "daemon_fixture: the daemon did not stop within 5 s; aborting\n");
    abort_and_wait(5s);
  }
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  server_.reset();
}

std::unique_ptr<ws_client> daemon_fixture::connect(std::chrono::milliseconds timeout) {
  auto c = std::make_unique<ws_client>();
  auto ec = c->connect(port_, timeout);
  BOOST_TEST_REQUIRE(!ec, "connect: " << ec.message());
  return c;
}

namespace {
bool wait_stopped(daemon_server& s, std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  s.on_stopped([p] { p->set_value(); });
  return f.wait_for(timeout) == std::future_status::ready;
}
}  // namespace

bool daemon_fixture::stop_and_wait(std::chrono::milliseconds timeout) {
  server_->stop();
  return wait_stopped(*server_, timeout);
}

bool daemon_fixture::abort_and_wait(std::chrono::milliseconds timeout) {
  server_->abort();
  return wait_stopped(*server_, timeout);
}

boost::json::object make_task(std::string_view id, std::string_view description) {
  boost::json::object t;
  t["id"] = id;
  t["type"] = "code";
  t["description"] = description;
  t["priority"] = "high";
  t["status"] = "pending";
  t["createdAt"] = "2026-11-29T08:47:57.123Z";
  t["updatedAt"] = "2026-11-29T08:47:57.123Z";
  return t;
}

boost::json::object spawn_request(std::string_view session_type, std::optional<boost::json::object> task) {
  boost::json::object r;
  r["orchestratorId"] = "orch-1";
  r["task"] = task ? std::move(*task) : make_task();
  r["sessionType"] = session_type;
  boost::json::object m;
  m["type"] = "spawn_session";
  m["request"] = std::move(r);
  return m;
}

boost::json::object simple_request(std::string_view type) {
  boost::json::object m;
  m["type"] = type;
  return m;
}

boost::json::object session_request(std::string_view type, std::string_view session_id) {
  boost::json::object m;
  m["type"] = type;
  m["sessionId"] = session_id;
  return m;
}

boost::json::object restore_request(const boost::json::object& session, boost::json::object memory_snapshot) {
  boost::json::object meta;
  meta["serializedAt"] = "2026-11-29T09:00:00.000Z";
  meta["nodeId"] = "other-node";
  meta["version"] = "0.1.0";
  boost::json::object ser;
  ser["session"] = session;
  ser["memorySnapshot"] = std::move(memory_snapshot);
  ser["metadata"] = std::move(meta);
  boost::json::object m;
  m["type"] = "restore_session";
  m["serializedSession"] = std::move(ser);
  return m;
}

std::string str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

}  // namespace neolith::test
