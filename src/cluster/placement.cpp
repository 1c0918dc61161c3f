#include <neolith/cluster/placement.hpp>

#include <algorithm>
#include <cmath>

namespace neolith::cluster {

bool placement_policy::suitable(const placement_candidate& node, const placement_request& req) {
  const auto& caps = node.capabilities;
  if (!caps.can_spawn_sessions || !caps.supports(req.type)) return false;
  if (req.needs_gpu && !caps.has_gpu_access) return false;
  if (req.needs_high_memory && !caps.has_high_memory) return false;
  for (const auto& name : req.custom_capabilities) {
    if (!caps.custom_capabilities) return false;
    const auto it = caps.custom_capabilities->find(name);
    if (it == caps.custom_capabilities->end() || !it->second) return false;
  }
  return true;
}

bool placement_policy::available(const placement_candidate& node) noexcept {
  return node.connected && !node.draining && !node.circuit_open &&
         node.health.active_sessions < node.capabilities.max_concurrent_sessions;
}

double placement_policy::load(const placement_candidate& node) const noexcept {
  const auto max = node.capabilities.max_concurrent_sessions;
  const double sessions = max > 0 ? static_cast<double>(node.health.active_sessions) / static_cast<double>(max) : 1.0;
  const double cpu = std::clamp(node.health.cpu_usage / 100.0, 0.0, 1.0);
  const double memory = std::clamp(node.health.memory_usage / 100.0, 0.0, 1.0);
  return weights_.sessions * sessions + weights_.cpu * cpu + weights_.memory * memory;
}

result<std::string> placement_policy::place(std::span<const placement_candidate> nodes, const placement_request& req) {
  eligible_.clear();
  std::size_t unsuitable = 0, full = 0, disconnected = 0, draining = 0, open = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    if (!suitable(n, req)) ++unsuitable;
    else if (!n.connected) ++disconnected;
    else if (n.draining) ++draining;
    else if (n.circuit_open) ++open;
    else if (!available(n)) ++full;
    else eligible_.push_back(i);
  }
  if (eligible_.empty()) {
    const std::string counts = std::to_string(nodes.size()) + " nodes: " + std::to_string(unsuitable) +
                               " without the type or a capability, " + std::to_string(full) + " full, " +
                               std::to_string(disconnected) + " not connected, " + std::to_string(draining) +
                               " draining, " + std::to_string(open) + " with an open circuit";
    if (unsuitable == nodes.size()) return error_info(error::unsupported_session_type, "no node can run the session (" + counts + ")");
    if (disconnected + draining + open == 0) return error_info(error::capacity_exceeded, "every suitable node is full (" + counts + ")");
    return error_info(error::not_connected, "no suitable node can take the session now (" + counts + ")");
  }
  if (req.affinity) {
    for (auto i : eligible_) {
      if (nodes[i].node_id == *req.affinity) return nodes[i].node_id;
    }
  }
  // k distinct random candidates (a partial Fisher-Yates shuffle), the least loaded wins.
  const auto n = eligible_.size();
  const auto k = std::min(n, static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n)))));
  std::size_t best = 0;
  double best_load = 0;
  for (std::size_t drawn = 0; drawn < k; ++drawn) {
    const auto j = drawn + static_cast<std::size_t>(rng_() % (n - drawn));
    std::swap(eligible_[drawn], eligible_[j]);
    const double l = load(nodes[eligible_[drawn]]);
    if (drawn == 0 || l < best_load) {
      best = eligible_[drawn];
      best_load = l;
    }
  }
  return nodes[best].node_id;
}

}  // namespace neolith::cluster
