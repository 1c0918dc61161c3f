// Prometheus text exposition (format 0.0.4) of a daemon's counters, health and sessions by
// status: what its `GET /metrics` serves.
#ifndef NEOLITH_DAEMON_METRICS_HPP
#define NEOLITH_DAEMON_METRICS_HPP

#include <neolith/daemon/daemon_server.hpp>
#include <neolith/protocol/prometheus.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace neolith {

/// The daemon's counters and current health, labelled `node="<node_id>"`.
void append_prometheus(std::string& out, std::string_view node_id, const daemon_stats& s, const node_health& health,
                       bool with_headers = true);

/// The daemon's sessions (live and retained ended ones) counted by status:
/// `neolith_daemon_sessions{node="...",status="running"}`, every status listed (0 included).
void append_sessions_by_status(std::string& out, std::string_view node_id, const std::vector<session>& sessions,
                               bool with_headers = true);

/// A whole exposition for one daemon (counters, health, sessions by status).
std::string prometheus_text(const daemon_server& daemon);

}  // namespace neolith

#endif  // NEOLITH_DAEMON_METRICS_HPP
