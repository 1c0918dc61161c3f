#include <neolith/cluster/memory_registry.hpp>

#include <utility>

namespace neolith::cluster {

namespace {

error_info conflict(const session_location& current, std::string_view expected) {
  return {error::location_conflict, "session " + current.session_id + " is at node " + current.node_id +
                                        " epoch " + std::to_string(current.epoch) + ", not " +
                                        std::string(expected)};
}

error_info not_found(std::string_view id) {
  return {error::session_not_found, "the registry has no session " + std::string(id)};
}

}  // namespace

boost::asio::awaitable<result<session_location>> memory_registry::claim(session_location loc) {
  if (loc.session_id.empty() || loc.node_id.empty())
    co_return error_info(error::invalid_argument, "a claim needs a session id and a node id");
  std::lock_guard lock(mutex_);
  loc.epoch = 1;
  auto [it, inserted] = entries_.try_emplace(loc.session_id, loc);
  if (!inserted) {
    co_return error_info(error::location_exists, "session " + loc.session_id + " is already at node " +
                                                     it->second.node_id + " epoch " +
                                                     std::to_string(it->second.epoch));
  }
  co_return it->second;
}

boost::asio::awaitable<result<session_location>> memory_registry::get(std::string session_id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(session_id);
  if (it == entries_.end()) co_return not_found(session_id);
  co_return it->second;
}

boost::asio::awaitable<result<std::vector<session_location>>> memory_registry::list_node(std::string node_id) {
  std::lock_guard lock(mutex_);
  std::vector<session_location> out;
  for (const auto& [id, loc] : entries_) {
    if (loc.node_id == node_id) out.push_back(loc);
  }
  co_return out;
}

boost::asio::awaitable<result<std::vector<session_location>>> memory_registry::list_all() {
  std::lock_guard lock(mutex_);
  std::vector<session_location> out;
  out.reserve(entries_.size());
  for (const auto& [id, loc] : entries_) out.push_back(loc);
  co_return out;
}

boost::asio::awaitable<result<session_location>> memory_registry::compare_and_set(
    std::string session_id, std::string expected_node, std::uint64_t expected_epoch, location_update update) {
  if (update.node_id.empty()) co_return error_info(error::invalid_argument, "a compare-and-set needs a node id");
  std::lock_guard lock(mutex_);
  auto it = entries_.find(session_id);
  if (it == entries_.end()) co_return not_found(session_id);
  auto& loc = it->second;
  if (loc.node_id != expected_node || loc.epoch != expected_epoch)
    co_return conflict(loc, "node " + expected_node + " epoch " + std::to_string(expected_epoch));
  loc.node_id = std::move(update.node_id);
  loc.epoch = expected_epoch + 1;
  loc.state = update.state;
  if (update.metadata) loc.metadata = std::move(*update.metadata);
  co_return loc;
}

boost::asio::awaitable<result<void>> memory_registry::remove(std::string session_id,
                                                             std::optional<std::uint64_t> expected_epoch) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(session_id);
  if (it == entries_.end()) co_return not_found(session_id);
  if (expected_epoch && it->second.epoch != *expected_epoch)
    co_return conflict(it->second, "epoch " + std::to_string(*expected_epoch));
  entries_.erase(it);
  co_return outcome::success();
}

}  // namespace neolith::cluster
