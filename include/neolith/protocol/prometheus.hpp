// Prometheus text exposition (format 0.0.4): the pieces both sides' /metrics texts are written
// with (label escaping, HELP/TYPE headers, samples labelled by node, the health gauges).
#ifndef NEOLITH_PROTOCOL_PROMETHEUS_HPP
#define NEOLITH_PROTOCOL_PROMETHEUS_HPP

#include <neolith/protocol/types.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace neolith {

/// Escapes a label value as the exposition format requires (backslash, quote, newline).
std::string escape_label_value(std::string_view v);

namespace detail {

/// Appends `v` as the exposition writes numbers (integers without a fraction, NaN, +Inf, -Inf).
void append_number(std::string& out, double v);

/// Writes metrics labelled `node="<node>"` to `out`; HELP/TYPE lines only when `headers`.
class prometheus_writer {
 public:
  prometheus_writer(std::string& out, std::string_view node, bool headers)
      : out_(out), node_(escape_label_value(node)), headers_(headers) {}

  /// A header and one sample.
  void metric(std::string_view name, std::string_view type, std::string_view help, double v,
              std::string_view extra_label = {}) {
    header(name, type, help);
    sample(name, v, extra_label);
  }
  void header(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, double v, std::string_view extra_label = {});

 private:
  std::string& out_;
  std::string node_;
  bool headers_;
};

/// The permessage-deflate counters of one side (`prefix`: neolith_client_ or neolith_daemon_).
void append_compression(prometheus_writer& w, const std::string& prefix, std::uint64_t frames, std::uint64_t in,
                        std::uint64_t out);

/// A node's health as gauges (status one-hot, CPU, memory, sessions, response time, uptime).
void append_health(prometheus_writer& w, const node_health& h);

}  // namespace detail

}  // namespace neolith

#endif  // NEOLITH_PROTOCOL_PROMETHEUS_HPP
