// The location registry in Redis, for orchestrators that share a cluster: every entry under
// `neolith:<cluster>:`, every write one Lua script (EVALSHA), over our own pipelined,
// reconnecting connection. See docs/cluster.md.
#ifndef NEOLITH_CLUSTER_REDIS_REGISTRY_HPP
#define NEOLITH_CLUSTER_REDIS_REGISTRY_HPP

#include <neolith/cluster/location_registry.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>

namespace neolith::cluster {

namespace detail {
class redis_connection;
}

struct redis_registry_options {
  /// `redis://HOST[:PORT][/DB]` or `unix://PATH`.
  std::string url = "redis://127.0.0.1:6379";
  /// The cluster's name: letters, digits, '_', '-', '.' (1-64 of them). Keys are
  /// `neolith:<cluster>:...`; clusters never see each other's entries.
  std::string cluster = "default";
  std::chrono::milliseconds request_timeout{2000};  ///< per operation
  std::chrono::milliseconds connect_timeout{1000};  ///< per connection attempt
  std::chrono::milliseconds reconnect_base{50};     ///< first backoff delay
  std::chrono::milliseconds reconnect_max{2000};    ///< backoff cap
};

class redis_registry final : public location_registry {
 public:
  /// A registry connecting (in the background, on a strand of `ex`) to `opts.url`. Fails with
  /// `invalid_endpoint` for a bad URL, `invalid_argument` for a bad cluster name.
  static result<std::unique_ptr<redis_registry>> create(boost::asio::any_io_executor ex, redis_registry_options opts);

  /// Stops the connection; operations still pending fail with `shutting_down`.
  ~redis_registry() override;

  /// Waits until the connection is up, at most `timeout` (`registry_unavailable` then).
  boost::asio::awaitable<result<void>> wait_connected(std::chrono::milliseconds timeout);
  /// Whether the connection is up now. Thread-safe.
  bool connected() const noexcept;
  /// Connections established so far (a reconnection adds one). Thread-safe.
  std::uint64_t connections() const noexcept;
  /// "neolith:<cluster>:".
  const std::string& key_prefix() const noexcept { return prefix_; }

  boost::asio::awaitable<result<session_location>> claim(session_location loc) override;
  boost::asio::awaitable<result<session_location>> get(std::string session_id) override;
  boost::asio::awaitable<result<std::vector<session_location>>> list_node(std::string node_id) override;
  boost::asio::awaitable<result<std::vector<session_location>>> list_all() override;
  boost::asio::awaitable<result<session_location>> compare_and_set(std::string session_id,
                                                                   std::string expected_node,
                                                                   std::uint64_t expected_epoch,
                                                                   location_update update) override;
  boost::asio::awaitable<result<void>> remove(std::string session_id,
                                              std::optional<std::uint64_t> expected_epoch) override;

  redis_registry(std::shared_ptr<detail::redis_connection> conn, redis_registry_options opts);  // use create()

 private:
  std::shared_ptr<detail::redis_connection> conn_;
  redis_registry_options opts_;
  std::string prefix_;
};

}  // namespace neolith::cluster

#endif  // NEOLITH_CLUSTER_REDIS_REGISTRY_HPP
