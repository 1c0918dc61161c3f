// Prometheus text exposition (format 0.0.4) of a node's counters, connection state and cached
// health, so that an orchestrator can serve them on a /metrics endpoint.
#ifndef NEOLITH_CLIENT_METRICS_HPP
#define NEOLITH_CLIENT_METRICS_HPP

#include <neolith/client/daemon_node.hpp>
#include <neolith/protocol/prometheus.hpp>

#include <string>
#include <string_view>

namespace neolith {

/// One daemon_node's counters, state and cached health, every sample labelled
/// `node="<node_id>"`. Appends to `out` (several nodes may share one exposition: HELP/TYPE
/// lines are written only when `with_headers` is true, i.e. for the first node).
void append_prometheus(std::string& out, std::string_view node_id, const node_statistics& s, connection_state state,
                       const node_health& health, bool with_headers = true);

/// A whole exposition for one node.
std::string prometheus_text(const daemon_node& node);

}  // namespace neolith

#endif  // NEOLITH_CLIENT_METRICS_HPP
