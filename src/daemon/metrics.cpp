#include <neolith/daemon/metrics.hpp>

#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/prometheus.hpp>

namespace neolith {

void append_prometheus(std::string& out, std::string_view node_id, const daemon_stats& s, const node_health& health,
                       bool with_headers) {
  detail::prometheus_writer w(out, node_id, with_headers);
  const auto d = [](auto v) { return static_cast<double>(v); };
  w.metric("neolith_daemon_connections", "gauge", "Open WebSocket connections.", d(s.connections));
  w.metric("neolith_daemon_connections_accepted_total", "counter", "Upgraded connections.", d(s.connections_accepted));
  w.metric("neolith_daemon_http_refused_total", "counter", "Plain HTTP and unauthorized requests refused.", d(s.http_refused));
  w.metric("neolith_daemon_tls_handshakes_failed_total", "counter", "TLS handshakes that failed or stalled (wss:// only).",
           d(s.tls_handshakes_failed));
  w.metric("neolith_daemon_live_sessions", "gauge", "Sessions not ended.", d(s.live_sessions));
  w.metric("neolith_daemon_listed_sessions", "gauge", "Live and retained ended sessions.", d(s.listed_sessions));
  w.header("neolith_daemon_requests_total", "counter", "Requests executed, by type (replays not counted).");
  for (std::size_t i = 0; i < s.requests.size(); ++i) {
    const auto t = static_cast<message_type>(i);
    if (t <= message_type::heartbeat) {  // the requests come first in message_type
      w.sample("neolith_daemon_requests_total", d(s.requests[i]), "type=\"" + std::string(to_string(t)) + "\"");
    }
  }
  w.metric("neolith_daemon_spawns_executed_total", "counter", "spawn_session requests that created a session.", d(s.spawns_executed));
  w.metric("neolith_daemon_replays_served_total", "counter", "Answers replayed from the idempotency window.", d(s.replays_served));
  w.metric("neolith_daemon_decode_errors_total", "counter", "Text frames that did not decode.", d(s.decode_errors));
  w.metric("neolith_daemon_binary_frames_total", "counter", "Binary frames refused.", d(s.binary_frames));
  w.metric("neolith_daemon_heartbeats_sent_total", "counter", "Daemon heartbeats pushed.", d(s.heartbeats_sent));
  w.metric("neolith_daemon_heartbeat_timeouts_total", "counter", "Clients closed for silence.", d(s.heartbeat_timeouts));
  w.metric("neolith_daemon_session_updates_sent_total", "counter", "session_updated pushes.", d(s.session_updates_sent));
  w.metric("neolith_daemon_responses_too_large_total", "counter", "Answers replaced by response_too_large.", d(s.responses_too_large));
  detail::append_compression(w, "neolith_daemon_", s.frames_compressed, s.deflate_input_bytes, s.deflate_output_bytes);
  detail::append_health(w, health);
}

void append_sessions_by_status(std::string& out, std::string_view node_id, const std::vector<session>& sessions,
                               bool with_headers) {
  constexpr session_status all[] = {session_status::initializing, session_status::running, session_status::paused,
                                    session_status::completed,    session_status::failed,  session_status::terminated};
  std::size_t counts[std::size(all)] = {};
  for (const session& s : sessions) counts[static_cast<std::size_t>(s.status)] += 1;
  detail::prometheus_writer w(out, node_id, with_headers);
  w.header("neolith_daemon_sessions", "gauge", "Listed sessions (live and retained ended ones) by status.");
  for (session_status st : all)
    w.sample("neolith_daemon_sessions", static_cast<double>(counts[static_cast<std::size_t>(st)]),
             "status=\"" + std::string(to_string(st)) + "\"");
}

std::string prometheus_text(const daemon_server& daemon) {
  std::string out;
  const std::string id = daemon.node_id();
  append_prometheus(out, id, daemon.stats(), daemon.health());
  append_sessions_by_status(out, id, daemon.sessions());
  return out;
}

}  // namespace neolith
