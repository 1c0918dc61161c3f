// One pipelined connection to Redis, our own Asio coroutines over a TCP or unix socket:
// requests are written in batches and their replies matched in order (a queue of pending
// replies), with a deadline each; the connection reconnects with backoff (redis_run_fsm) and,
// while it is down, every request fails at once with `registry_unavailable`.
#ifndef NEOLITH_CLUSTER_DETAIL_REDIS_CONNECTION_HPP
#define NEOLITH_CLUSTER_DETAIL_REDIS_CONNECTION_HPP

#include <neolith/cluster/detail/redis_reply.hpp>
#include <neolith/cluster/detail/redis_run_fsm.hpp>
#include <neolith/cluster/detail/redis_url.hpp>
#include <neolith/core/detail/small_rng.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace neolith::cluster::detail {

struct redis_connection_options {
  redis_address address;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds reconnect_base{50};
  std::chrono::milliseconds reconnect_max{2000};
  double reconnect_jitter = 0.2;
  int max_reconnect_attempts = 1 << 30;  ///< in a row; then the connection stops for good
};

class redis_connection : public std::enable_shared_from_this<redis_connection> {
 public:
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

  /// A connection whose work runs on a strand of `ex`. Call `start()` once.
  static std::shared_ptr<redis_connection> create(boost::asio::any_io_executor ex, redis_connection_options opts);

  /// Starts the run loop (connect, serve, reconnect).
  void start();
  /// Stops for good: closes the socket, fails every pending request with `shutting_down`.
  /// Thread-safe; returns at once.
  void stop();

  /// Sends `args` and waits for its reply, at most `timeout`. Any executor: the request runs
  /// on the connection's strand and completes on the caller's. A reply of RESP type error is
  /// returned as a reply (the caller decides); failures are `registry_unavailable` (not
  /// connected, or the connection broke before the reply: then the outcome is unknown),
  /// `registry_protocol`, `timeout`, `cancelled`, `shutting_down`.
  boost::asio::awaitable<result<redis_reply>> exec(std::vector<std::string> args, std::chrono::milliseconds timeout);

  /// Whether requests are accepted now (connected). Thread-safe.
  bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
  /// Connections established so far. Thread-safe.
  std::uint64_t connections() const noexcept { return connections_.load(std::memory_order_acquire); }
  const redis_address& address() const noexcept { return opts_.address; }

  redis_connection(boost::asio::any_io_executor ex, redis_connection_options opts);  // use create()

 private:
  struct pending;
  using socket_type = boost::asio::generic::stream_protocol::socket;

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<result<void>> connect_once();
  boost::asio::awaitable<result<void>> open_socket();
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<std::optional<result<redis_reply>>> exec_on_strand(std::vector<std::string> args,
                                                                            std::chrono::milliseconds timeout);
  void fail_all(const error_info& why);
  void set_connected(bool up);

  strand_type strand_;
  redis_connection_options opts_;
  redis_run_fsm fsm_;
  socket_type socket_;
  boost::asio::steady_timer write_signal_;  ///< cancelled when there is something to write
  boost::asio::steady_timer wait_timer_;    ///< the backoff wait and the connect deadline
  std::deque<std::shared_ptr<pending>> to_write_;
  std::deque<std::shared_ptr<pending>> in_flight_;  ///< written, reply awaited (in order)
  bool stopped_ = false;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> connections_{0};
  neolith::detail::small_rng rng_;
  std::string last_error_ = "not connected yet";  ///< why the last connection attempt failed
};

}  // namespace neolith::cluster::detail

#endif  // NEOLITH_CLUSTER_DETAIL_REDIS_CONNECTION_HPP
