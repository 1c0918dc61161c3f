#include <neolith/protocol/prometheus.hpp>

#include <cmath>
#include <cstdio>

namespace neolith {

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

namespace detail {

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

void prometheus_writer::header(std::string_view name, std::string_view type, std::string_view help) {
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

void prometheus_writer::sample(std::string_view name, double v, std::string_view extra_label) {
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

void append_compression(prometheus_writer& w, const std::string& prefix, std::uint64_t frames, std::uint64_t in,
                        std::uint64_t out) {
  w.metric(prefix + "frames_compressed_total", "counter", "Frames sent compressed (permessage-deflate).",
           static_cast<double>(frames));
  w.metric(prefix + "deflate_input_bytes_total", "counter", "Bytes of the messages sent compressed, before.",
           static_cast<double>(in));
  w.metric(prefix + "deflate_output_bytes_total", "counter", "Bytes of the messages sent compressed, after.",
           static_cast<double>(out));
}

void append_health(prometheus_writer& w, const node_health& h) {
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

}  // namespace detail

}  // namespace neolith
