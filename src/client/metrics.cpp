#include <neolith/client/metrics.hpp>

#include <neolith/protocol/prometheus.hpp>

namespace neolith {

void append_prometheus(std::string& out, std::string_view node_id, const node_statistics& s, connection_state state,
                       const node_health& health, bool with_headers) {
  detail::prometheus_writer w(out, node_id, with_headers);
  w.header("neolith_client_connection_state", "gauge", "1 for the node's current connection state, 0 for the others.");
  for (auto st : {connection_state::disconnected, connection_state::connecting, connection_state::connected,
                  connection_state::reconnecting, connection_state::failed}) {
    w.sample("neolith_client_connection_state", st == state ? 1 : 0, "state=\"" + std::string(to_string(st)) + "\"");
  }
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  w.metric("neolith_client_requests_total", "counter", "Requests accepted by the node.", d(s.requests));
  w.metric("neolith_client_frames_sent_total", "counter", "Request frames written, re-sends included.", d(s.frames_sent));
  w.metric("neolith_client_socket_writes_total", "counter", "Socket writes made (the frames ready at once leave in one).",
           d(s.socket_writes));
  w.metric("neolith_client_resent_total", "counter", "Requests queued again after a lost connection.", d(s.resent));
  w.metric("neolith_client_answered_total", "counter", "Answers routed to a waiting caller.", d(s.answered));
  w.metric("neolith_client_timeouts_total", "counter", "Requests ended by their deadline.", d(s.timeouts));
  w.metric("neolith_client_cancelled_total", "counter", "Requests cancelled by their caller.", d(s.cancelled));
  w.metric("neolith_client_unmatched_replies_total", "counter", "Answers nobody waited for.", d(s.unmatched_replies));
  w.metric("neolith_client_invalid_frames_total", "counter", "Frames from the daemon that did not decode.", d(s.invalid_frames));
  w.metric("neolith_client_connections_total", "counter", "Connections established.", d(s.connections));
  w.metric("neolith_client_connection_losses_total", "counter", "Connections lost.", d(s.connection_losses));
  w.metric("neolith_client_heartbeats_sent_total", "counter", "Heartbeats sent.", d(s.heartbeats_sent));
  w.metric("neolith_client_dropped_events_total", "counter", "Events dropped from lagging subscriptions.", d(s.dropped_events));
  detail::append_compression(w, "neolith_client_", s.frames_compressed, s.deflate_input_bytes, s.deflate_output_bytes);
  detail::append_health(w, health);
}

std::string prometheus_text(const daemon_node& node) {
  std::string out;
  append_prometheus(out, node.id(), node.statistics(), node.state(), node.cached_health());
  return out;
}

}  // namespace neolith
