// The shared state of a daemon_server and its connections.
#ifndef NEOLITH_DAEMON_DETAIL_DAEMON_SERVER_IMPL_HPP
#define NEOLITH_DAEMON_DETAIL_DAEMON_SERVER_IMPL_HPP

#include <neolith/daemon/daemon_server.hpp>
#include <neolith/daemon/detail/daemon_core.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace neolith::detail {
class daemon_connection;
}

namespace neolith {

struct daemon_server::impl : std::enable_shared_from_this<daemon_server::impl> {
  impl(boost::asio::any_io_executor ex, daemon_options o);

  boost::asio::any_io_executor ex;
  boost::asio::strand<boost::asio::any_io_executor> strand;  ///< acceptor, timers, stop
  const daemon_options opts;
  std::shared_ptr<session_runner> runner;
  std::shared_ptr<detail::daemon_core> core;
  /// With `opts.tls`: the OpenSSL context of every connection, made by `start()` before the
  /// first accept (read-only from then on).
  std::shared_ptr<boost::asio::ssl::context> tls_context;

  // On `strand` only.
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer heartbeat_timer;
  boost::asio::steady_timer sample_timer;
  bool stop_begun = false;
  bool abort_begun = false;

  mutable std::mutex mu;
  boost::asio::ip::tcp::endpoint endpoint;  // under mu
  bool started = false;                      // under mu
  std::unordered_map<detail::daemon_connection*, std::weak_ptr<detail::daemon_connection>> conns;  // under mu
  std::vector<std::function<void()>> stopped_waiters;  // under mu

  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::atomic<std::size_t> live{0};  ///< coroutines, connections and runner shutdowns alive

  /// Keeps the server "not stopped" while alive.
  struct live_guard {
    std::shared_ptr<impl> s;
    explicit live_guard(std::shared_ptr<impl> p) : s(std::move(p)) { s->live.fetch_add(1); }
    live_guard(live_guard&& o) noexcept = default;
    live_guard& operator=(live_guard&&) = delete;
    ~live_guard() {
      if (s) s->release();
    }
  };
  void release();
  void check_stopped();
  void on_stopped(std::function<void()> f);

  /// A free-text event of the daemon (`event` "daemon" unless named).
  void log(std::string_view line, log_level level = log_level::info, std::string_view event = "daemon") const {
    core->logger().text(level, event, line);
  }
  /// Numbers the connections (from 1) for the log.
  std::atomic<std::uint64_t> connection_ids{0};

  void add_connection(const std::shared_ptr<detail::daemon_connection>& c);
  void remove_connection(detail::daemon_connection* c);
  std::vector<std::shared_ptr<detail::daemon_connection>> connections() const;
  /// Queues `text` on every upgraded connection; adds their number to `sent` first, so that a client
  /// that got the frame never sees a statistic that has not counted it yet.
  void broadcast(const std::shared_ptr<const std::string>& text, std::atomic<std::uint64_t>& sent);

  boost::asio::awaitable<void> accept_loop(std::shared_ptr<impl> self);
  boost::asio::awaitable<void> heartbeat_loop(std::shared_ptr<impl> self);
  boost::asio::awaitable<void> sample_loop(std::shared_ptr<impl> self);
  void begin_stop(bool abort);  // on strand
};

}  // namespace neolith

#endif  // NEOLITH_DAEMON_DETAIL_DAEMON_SERVER_IMPL_HPP
