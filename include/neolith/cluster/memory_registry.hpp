// The in-memory location registry: the default, for one orchestrator (nothing to start).
#ifndef NEOLITH_CLUSTER_MEMORY_REGISTRY_HPP
#define NEOLITH_CLUSTER_MEMORY_REGISTRY_HPP

#include <neolith/cluster/location_registry.hpp>

#include <map>
#include <mutex>

namespace neolith::cluster {

/// A `location_registry` in this process's memory, guarded by a mutex: usable from any thread;
/// every operation completes without suspending. Lost with the process.
class memory_registry final : public location_registry {
 public:
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

 private:
  std::mutex mutex_;
  std::map<std::string, session_location, std::less<>> entries_;
};

}  // namespace neolith::cluster

#endif  // NEOLITH_CLUSTER_MEMORY_REGISTRY_HPP
