// `neolith demo`: the embedded cluster. Daemons (neolith::daemon_server) on 127.0.0.1 that run
// on their own io_context and threads, apart from the client's; each can be stopped and
// started again on the port it had.
#ifndef NEOLITH_CLI_DEMO_CLUSTER_HPP
#define NEOLITH_CLI_DEMO_CLUSTER_HPP

#include <neolith/core/error.hpp>
#include <neolith/daemon/daemon_options.hpp>
#include <neolith/daemon/daemon_server.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace neolith::cli::demo {

class cluster {
 public:
  /// Starts `threads` threads that run the daemons' io_context. No daemon yet.
  explicit cluster(unsigned threads);
  /// Aborts every daemon still running (bounded wait), stops the io_context, joins.
  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// Adds a daemon with these options (its port is picked when 0) and starts it; its index.
  result<std::size_t> add(daemon_options opts);
  std::size_t size() const noexcept { return daemons_.size(); }

  /// The port daemon `i` was bound to (kept while it is stopped).
  std::uint16_t port(std::size_t i) const { return daemons_.at(i).port; }
  const std::string& node_id(std::size_t i) const { return daemons_.at(i).opts.node_id; }
  /// The running server (null while stopped).
  daemon_server* server(std::size_t i) { return daemons_.at(i).server.get(); }

  /// Begins a graceful stop of daemon `i` (close 1001, sessions ended); see `stopped`.
  void begin_stop(std::size_t i);
  /// True once daemon `i` is fully stopped (or was never started); its server is then
  /// released, and `restart` may start a new one.
  bool stopped(std::size_t i);
  /// A new daemon_server with the same options on the same port.
  result<void> restart(std::size_t i);

 private:
  struct slot {
    daemon_options opts;
    std::unique_ptr<daemon_server> server;
    std::uint16_t port = 0;
  };
  result<void> start(slot& s);

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::vector<slot> daemons_;
};

}  // namespace neolith::cli::demo

#endif  // NEOLITH_CLI_DEMO_CLUSTER_HPP
