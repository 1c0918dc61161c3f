// The cluster's location registry: where each session runs (node, epoch, state), the one
// shared truth that several orchestrators agree on. An interface with two implementations:
// `memory_registry` (one orchestrator, nothing to start) and `redis_registry` (orchestrators
// sharing a Redis). See docs/cluster.md for the model.
#ifndef NEOLITH_CLUSTER_LOCATION_REGISTRY_HPP
#define NEOLITH_CLUSTER_LOCATION_REGISTRY_HPP

#include <neolith/core/error.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neolith::cluster {

/// The life of a session's location.
enum class location_state : std::uint8_t {
  placed,  ///< running on `node_id` (the normal state)
  moving,  ///< being moved to `node_id` (failover restore or migration in progress); the
           ///< entry's epoch is already the new owner's
  ended,   ///< the session ended; the entry stays as a tombstone until removed, so a failover
           ///< never resurrects it
};

/// "placed", "moving", "ended".
std::string_view to_string(location_state s) noexcept;
/// The state named `name`, if any.
std::optional<location_state> location_state_from_string(std::string_view name) noexcept;

/// One session's entry in the registry.
struct session_location {
  std::string session_id;
  std::string node_id;        ///< the node that owns the session at `epoch`
  std::uint64_t epoch = 0;    ///< 1 at the claim, +1 at every compare-and-set
  location_state state = location_state::placed;
  std::string session_type;   ///< what a failover needs to pick a compatible target node
  std::string metadata;       ///< opaque to the registry (e.g. JSON: the snapshot's reference)

  friend bool operator==(const session_location&, const session_location&) = default;
};

/// The change a compare-and-set makes when its expectation holds: the new owner node, state
/// and (when set) metadata. The epoch always becomes the expected epoch + 1.
struct location_update {
  std::string node_id;
  location_state state = location_state::placed;
  std::optional<std::string> metadata;  ///< nullopt keeps the current metadata
};

/// The registry. Every operation is atomic on its session; operations on different sessions
/// are independent. Failures:
/// - `session_not_found`: `get`, `compare_and_set`, `remove` of an id with no entry;
/// - `location_exists`: `claim` of an id that has an entry (whatever its state);
/// - `location_conflict`: `compare_and_set` / `remove` whose expected (node, epoch) or epoch
///   is not the entry's (the message names the current node and epoch);
/// - `invalid_argument`: an empty session or node id;
/// - `registry_unavailable`: the store cannot be reached (nothing was done; or, for a timeout
///   after the request was sent, the outcome is unknown: read the entry back);
/// - `registry_protocol`: the store answered something invalid;
/// - `timeout`, `cancelled`.
///
/// Implementations may be used from any thread; each awaitable completes on the caller's
/// executor.
class location_registry {
 public:
  virtual ~location_registry() = default;

  /// Records a new session at `loc.node_id` with epoch 1 (`loc.epoch` is ignored) and
  /// `loc.state`; returns the entry as stored.
  virtual boost::asio::awaitable<result<session_location>> claim(session_location loc) = 0;

  /// The entry of `session_id`.
  virtual boost::asio::awaitable<result<session_location>> get(std::string session_id) = 0;

  /// Every entry whose node is `node_id` (any state), in no particular order.
  virtual boost::asio::awaitable<result<std::vector<session_location>>> list_node(std::string node_id) = 0;

  /// Every entry of the cluster, in no particular order.
  virtual boost::asio::awaitable<result<std::vector<session_location>>> list_all() = 0;

  /// If the entry is at (`expected_node`, `expected_epoch`), moves it to `update` with epoch
  /// `expected_epoch + 1` and returns the new entry; otherwise `location_conflict` and nothing
  /// changes. Of several contenders expecting the same (node, epoch), exactly one wins.
  virtual boost::asio::awaitable<result<session_location>> compare_and_set(
      std::string session_id, std::string expected_node, std::uint64_t expected_epoch,
      location_update update) = 0;

  /// Removes the entry; with `expected_epoch`, only if the entry is at that epoch
  /// (`location_conflict` otherwise).
  virtual boost::asio::awaitable<result<void>> remove(std::string session_id,
                                                      std::optional<std::uint64_t> expected_epoch) = 0;
};

}  // namespace neolith::cluster

#endif  // NEOLITH_CLUSTER_LOCATION_REGISTRY_HPP
