#include <neolith/metrics.hpp>

#include <neolith/protocol.hpp>

#include <cmath>
#include <cstdio>

namespace neolith {

namespace {

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  const double r = std::round(v);
  if (r == v && std::fabs(v) < 9.0e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
}

class writer {
 public:
  writer(std::string& out, std::string_view node, bool headers) : out_(out), node_(escape_label_value(node)), headers_(headers) {}

  void metric(std::string_view name, std::string_view type, std::string_view help, double v,
              std::string_view extra_label = {}) {
    header(name, type, help);
    sample(name, v, extra_label);
  }
  void header(std::string_view name, std::string_view type, std::string_view help) {
    if (!headers_) return;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, double v, std::string_view extra_label = {}) {
    out_ += name;
    out_ += "{node=\"";
    out_ += node_;
    out_ += '"';
    if (!extra_label.empty()) {
      out_ += ',';
      out_ += extra_label;
    }
    out_ += "} ";
    append_number(out_, v);
    out_ += '\n';
  }

 private:
  std::string& out_;
  std::string node_;
  bool headers_;
};

/// The permessage-deflate counters of one side (`prefix`: neolith_client_ or neolith_daemon_).
void append_compression(writer& w, const std::string& prefix, std::uint64_t frames, std::uint64_t in,
                        std::uint64_t out) {
  w.metric(prefix + "frames_compressed_total", "counter", "Frames sent compressed (permessage-deflate).",
           static_cast<double>(frames));
  w.metric(prefix + "deflate_input_bytes_total", "counter", "Bytes of the messages sent compressed, before.",
           static_cast<double>(in));
  w.metric(prefix + "deflate_output_bytes_total", "counter", "Bytes of the messages sent compressed, after.",
           static_cast<double>(out));
}

void append_health(writer& w, const node_health& h) {
  w.header("neolith_node_health_status", "gauge", "1 for the node's current health status, 0 for the others.");
  for (auto st : {node_status::healthy, node_status::degraded, node_status::unhealthy, node_status::offline}) {
    w.sample("neolith_node_health_status", h.status == st ? 1 : 0,
             "status=\"" + std::string(to_string(st)) + "\"");
  }
  w.metric("neolith_node_cpu_usage_percent", "gauge", "CPU use of the node's machine, percent.", h.cpu_usage);
  w.metric("neolith_node_memory_usage_percent", "gauge", "Memory use of the node's machine, percent.", h.memory_usage);
  w.metric("neolith_node_active_sessions", "gauge", "Sessions running on the node.", static_cast<double>(h.active_sessions));
  w.metric("neolith_node_response_time_ms", "gauge", "The daemon's recent mean response time, milliseconds.", h.response_time);
  w.metric("neolith_node_uptime_seconds", "gauge", "The daemon's uptime, seconds.", h.uptime);
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void append_prometheus(std::string& out, std::string_view node_id, const node_statistics& s, connection_state state,
                       const node_health& health, bool with_headers) {
  writer w(out, node_id, with_headers);
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
  append_compression(w, "neolith_client_", s.frames_compressed, s.deflate_input_bytes, s.deflate_output_bytes);
  append_health(w, health);
}

void append_prometheus(std::string& out, std::string_view node_id, const daemon_stats& s, const node_health& health,
                       bool with_headers) {
  writer w(out, node_id, with_headers);
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
  append_compression(w, "neolith_daemon_", s.frames_compressed, s.deflate_input_bytes, s.deflate_output_bytes);
  append_health(w, health);
}

void append_sessions_by_status(std::string& out, std::string_view node_id, const std::vector<session>& sessions,
                               bool with_headers) {
  constexpr session_status all[] = {session_status::initializing, session_status::running, session_status::paused,
                                    session_status::completed,    session_status::failed,  session_status::terminated};
  std::size_t counts[std::size(all)] = {};
  for (const session& s : sessions) counts[static_cast<std::size_t>(s.status)] += 1;
  writer w(out, node_id, with_headers);
  w.header("neolith_daemon_sessions", "gauge", "Listed sessions (live and retained ended ones) by status.");
  for (session_status st : all)
    w.sample("neolith_daemon_sessions", static_cast<double>(counts[static_cast<std::size_t>(st)]),
             "status=\"" + std::string(to_string(st)) + "\"");
}

std::string prometheus_text(const daemon_node& node) {
  std::string out;
  append_prometheus(out, node.id(), node.statistics(), node.state(), node.cached_health());
  return out;
}

std::string prometheus_text(const daemon_server& daemon) {
  std::string out;
  const std::string id = daemon.node_id();
  append_prometheus(out, id, daemon.stats(), daemon.health());
  append_sessions_by_status(out, id, daemon.sessions());
  return out;
}

}  // namespace neolith
