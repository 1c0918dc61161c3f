// Runs a neolith::daemon_server on its own multi-threaded io_context for a test, and builds
// the JSON requests of the protocol.
#pragma once

#include "support/ws_client.hpp"

#include <neolith/daemon/daemon_server.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace neolith::test {

/// Options for a test daemon: 127.0.0.1, port 0, thresholds that never degrade for machine
/// load (tests share a busy machine), logs on stderr only when NEOLITH_TEST_LOG is set.
daemon_options test_daemon_options();

class daemon_fixture {
 public:
  explicit daemon_fixture(daemon_options opts = test_daemon_options(), unsigned threads = 2);
  /// Stops the daemon gracefully (bounded) and joins the threads.
  ~daemon_fixture();

  daemon_server& server() { return *server_; }
  std::uint16_t port() const { return port_; }
  boost::asio::io_context& ioc() { return ioc_; }

  /// A connected client (the test fails if it cannot connect).
  std::unique_ptr<ws_client> connect(std::chrono::milliseconds timeout = 5s);

  /// stop() and wait until fully stopped; false if not within `timeout`.
  bool stop_and_wait(std::chrono::milliseconds timeout = 5s);
  /// abort() and wait until fully stopped.
  bool abort_and_wait(std::chrono::milliseconds timeout = 5s);

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<daemon_server> server_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
};

// ----- Requests ------------------------------------------------------------------------------

boost::json::object make_task(std::string_view id = "task-1", std::string_view description = "do things");
boost::json::object spawn_request(std::string_view session_type = "claude-code",
                                  std::optional<boost::json::object> task = std::nullopt);
boost::json::object simple_request(std::string_view type);  // get_health, get_sessions, ...
boost::json::object session_request(std::string_view type, std::string_view session_id);
/// A restore_session request for `session` (a Session object as the daemon wrote it).
boost::json::object restore_request(const boost::json::object& session,
                                    boost::json::object memory_snapshot = {});

/// The string field `key` of `o` ("" when absent or not a string).
std::string str(const boost::json::object& o, std::string_view key);

}  // namespace neolith::test
