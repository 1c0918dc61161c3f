// Where a new session goes: a plain policy over what the cluster knows of its nodes (no I/O,
// no clock). Filter, then the least loaded of k = ceil(sqrt(N)) random candidates.
#ifndef NEOLITH_CLUSTER_PLACEMENT_HPP
#define NEOLITH_CLUSTER_PLACEMENT_HPP

#include <neolith/core/detail/small_rng.hpp>
#include <neolith/core/error.hpp>
#include <neolith/protocol/types.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace neolith::cluster {

/// One node as the placement sees it.
struct placement_candidate {
  std::string node_id;
  node_capabilities capabilities;  ///< as the daemon reported them
  node_health health;              ///< cpuUsage / memoryUsage (percent), activeSessions
  bool connected = false;          ///< its daemon_node is connected
  bool draining = false;           ///< being drained: takes nothing new
  bool circuit_open = false;       ///< its circuit breaker refuses requests now
};

/// What the new session needs.
struct placement_request {
  session_type type = session_type::claude_code;
  bool needs_gpu = false;                       ///< hasGPUAccess
  bool needs_high_memory = false;               ///< hasHighMemory
  std::vector<std::string> custom_capabilities; ///< each must be true in customCapabilities
  std::optional<std::string> affinity;          ///< this node when it can take the session
};

/// The weights of a node's load: sessions (activeSessions / maxConcurrentSessions), CPU and
/// memory (0-1 each). They need not add up to 1.
struct placement_weights {
  double sessions = 0.5;
  double cpu = 0.25;
  double memory = 0.25;
};

class placement_policy {
 public:
  explicit placement_policy(std::uint64_t seed, placement_weights weights = {}) noexcept
      : rng_(seed), weights_(weights) {}

  /// The node for `req`. Skips nodes that are not connected, draining, full (activeSessions >=
  /// maxConcurrentSessions, or a maximum of 0), whose circuit is open, that cannot spawn, or
  /// that lack the session type or a capability. Then the affinity node if it is among them;
  /// else the least loaded of k = ceil(sqrt(N)) distinct random eligible nodes (ties: the
  /// first drawn). Failures: `unsupported_session_type` (no node has the type and
  /// capabilities), `capacity_exceeded` (those that have them are full), `not_connected`
  /// (the others are disconnected, draining or open); the message counts each reason.
  result<std::string> place(std::span<const placement_candidate> nodes, const placement_request& req);

  /// A node's load, weighted (0 for an idle node; a full one is 1 on the sessions term).
  double load(const placement_candidate& node) const noexcept;

  /// Whether `node` has what `req` needs (type, spawning, capabilities), whatever its state.
  static bool suitable(const placement_candidate& node, const placement_request& req);
  /// Whether `node` can take one more session now (connected, not draining, circuit closed,
  /// below its maximum).
  static bool available(const placement_candidate& node) noexcept;

 private:
  neolith::detail::small_rng rng_;
  placement_weights weights_;
  std::vector<std::size_t> eligible_;  ///< reused between calls
};

}  // namespace neolith::cluster

#endif  // NEOLITH_CLUSTER_PLACEMENT_HPP
