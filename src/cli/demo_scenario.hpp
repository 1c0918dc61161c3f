// `neolith demo`: the scenario. Three daemons of a `cluster`, one `daemon_node` each on the
// client's io_context, and the steps the demo walks through: connect, spawn across the nodes,
// list, health, an outage of one daemon with requests queued while it is down, a session
// restored on another node, a burst of quick calls for the latency summary, and teardown.
#ifndef NEOLITH_CLI_DEMO_SCENARIO_HPP
#define NEOLITH_CLI_DEMO_SCENARIO_HPP

#include "demo_cluster.hpp"
#include "demo_output.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/core/error.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace neolith::cli::demo {

/// A step of the demo failed; `what()` is a one-line explanation.
class step_failed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct scenario_options {
  /// get_health and get_session calls each in the latency burst.
  std::size_t latency_calls = 300;
  /// The latency burst stops early when it has run this long (a slow or loaded machine).
  std::chrono::milliseconds burst_budget{8000};
  /// Reconnection attempts to let fail (and show) before the stopped daemon is started again.
  int outage_attempts = 3;
  /// Bound of every wait for a condition (a daemon stopping, a reconnection...).
  std::chrono::milliseconds wait_limit{5000};
};

struct event_log;

class scenario {
 public:
  using clock = std::chrono::steady_clock;

  scenario(boost::asio::io_context& client, cluster& daemons, printer out, scenario_options opts = {});
  /// Destroys the nodes (as `close_nodes`).
  ~scenario();
  scenario(const scenario&) = delete;
  scenario& operator=(const scenario&) = delete;

  /// Runs every step; throws `step_failed` when one fails. Must run on the client io_context.
  boost::asio::awaitable<void> run();

  /// The step running now (for a message when the demo is stopped from outside).
  const std::string& step() const noexcept { return step_; }

  /// Destroys the nodes: their operations end, their connections close in the background.
  void close_nodes();

 private:
  struct node_slot {
    std::string id;
    std::unique_ptr<daemon_node> node;
  };

  boost::asio::awaitable<void> start_cluster();
  boost::asio::awaitable<void> spawn_across_nodes();
  boost::asio::awaitable<void> list_sessions();
  boost::asio::awaitable<void> read_health();
  boost::asio::awaitable<void> outage_and_reconnect();
  boost::asio::awaitable<void> restore_on_another_node();
  boost::asio::awaitable<void> latency_burst();
  boost::asio::awaitable<void> teardown();
  void print_summary();

  void begin(std::string step);
  /// Waits (polling every few ms) until `pred` holds; fails the step after `wait_limit`.
  boost::asio::awaitable<void> wait_for(const std::function<bool()>& pred, const std::string& what);
  /// Lets the event printers catch up (a few turns of the client's io_context).
  boost::asio::awaitable<void> wait_for_events();
  /// The value of `r`, or a `step_failed` saying what failed and why.
  template <class T>
  T require(result<T> r, std::string_view what);
  void require(result<void> r, std::string_view what);
  [[noreturn]] void fail(std::string_view what);

  /// Awaits `a`, adding its duration to the latency book under `operation`.
  template <class T>
  boost::asio::awaitable<T> timed(std::string_view operation, boost::asio::awaitable<T> a);

  daemon_node& node(std::size_t i) { return *nodes_.at(i).node; }
  const std::string& node_id(std::size_t i) const { return nodes_.at(i).id; }

  boost::asio::io_context& client_;
  cluster& daemons_;
  printer out_;
  scenario_options opts_;
  clock::time_point started_ = clock::now();
  std::shared_ptr<event_log> events_;
  std::vector<node_slot> nodes_;
  latency_book latency_;
  std::string step_ = "starting";

  // What the summary reports.
  std::size_t spawned_ = 0;
  std::size_t restored_ = 0;
  std::size_t queued_completed_ = 0;
  double outage_ms_ = 0;
  std::size_t terminated_ = 0;
  std::vector<std::string> spawned_ids_;  // by spawn order
  std::vector<std::size_t> spawned_on_;   // node index of each
};

}  // namespace neolith::cli::demo

#endif  // NEOLITH_CLI_DEMO_SCENARIO_HPP
