// Prometheus text exposition (format 0.0.4) of a node's and a daemon's counters, so that an
// orchestrator or a daemon can serve them on a /metrics endpoint.
#ifndef NEOLITH_METRICS_HPP
#define NEOLITH_METRICS_HPP

#include <neolith/daemon_node.hpp>
#include <neolith/daemon_server.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace neolith {

/// The client side: one daemon_node's counters, state and cached health, every sample labelled
/// `node="<node_id>"`. Appends to `out` (several nodes may share one exposition: HELP/TYPE
/// lines are written only when `with_headers` is true, i.e. for the first node).
void append_prometheus(std::string& out, std::string_view node_id, const node_statistics& s, connection_state state,
                       const node_health& health, bool with_headers = true);

/// The daemon side: its counters and current health, labelled `node="<node_id>"`.
void append_prometheus(std::string& out, std::string_view node_id, const daemon_stats& s, const node_health& health,
                       bool with_headers = true);

/// The daemon's sessions (live and retained ended ones) counted by status:
/// `neolith_daemon_sessions{node="...",status="running"}`, every status listed (0 included).
void append_sessions_by_status(std::string& out, std::string_view node_id, const std::vector<session>& sessions,
                               bool with_headers = true);

/// A whole exposition for one node.
std::string prometheus_text(const daemon_node& node);
/// A whole exposition for one daemon (counters, health, sessions by status): what its
/// `GET /metrics` serves.
std::string prometheus_text(const daemon_server& daemon);

/// Escapes a label value as the exposition format requires (backslash, quote, newline).
std::string escape_label_value(std::string_view v);

}  // namespace neolith

#endif  // NEOLITH_METRICS_HPP
