#include <neolith/daemon/daemon_options.hpp>

#include <algorithm>

namespace neolith {

std::string_view to_string(runner_kind k) noexcept {
  switch (k) {
    case runner_kind::inproc: return "inproc";
    case runner_kind::process: return "process";
  }
  return "inproc";
}

std::optional<runner_kind> parse_runner_kind(std::string_view s) noexcept {
  if (s == "inproc") return runner_kind::inproc;
  if (s == "process") return runner_kind::process;
  return std::nullopt;
}

result<void> validate(const daemon_options& o) {
  auto bad = [](std::string m) { return error_info(error::invalid_argument, std::move(m)); };
  if (o.host.empty()) return bad("the listen host is empty");
  if (o.heartbeat_interval.count() <= 0) return bad("the heartbeat interval must be positive");
  if (o.heartbeat_timeout.count() <= 0) return bad("the heartbeat timeout must be positive");
  if (o.health_sample_interval.count() <= 0) return bad("the health sample interval must be positive");
  if (o.handshake_timeout.count() <= 0) return bad("the handshake timeout must be positive");
  if (o.close_timeout.count() <= 0) return bad("the close timeout must be positive");
  if (o.terminate_grace.count() < 0) return bad("the terminate grace period must not be negative");
  if (o.response_delay.count() < 0) return bad("the response delay must not be negative");
  if (o.max_message_bytes < 1024) return bad("the maximum message size must be at least 1024 bytes");
  if (o.deflate_level < 1 || o.deflate_level > 9) return bad("the deflate level must be 1 to 9");
  if (o.max_outbound_bytes == 0 || o.max_outbound_bytes_hard < o.max_outbound_bytes)
    return bad("the outbound limits must be positive, the hard one at least the soft one");
  if (o.token && o.token->empty()) return bad("the token is empty");
  if (o.tls) {
    if (o.tls->certificate_chain_file.empty()) return bad("TLS needs a certificate chain file");
    if (o.tls->private_key_file.empty()) return bad("TLS needs the certificate's private key file");
  }
  for (std::size_t i = 0; i < o.session_types.size(); ++i)
    for (std::size_t j = i + 1; j < o.session_types.size(); ++j)
      if (o.session_types[i] == o.session_types[j])
        return bad("session type '" + std::string(to_string(o.session_types[i])) + "' is listed twice");
  if (!o.custom_runner && o.runner == runner_kind::process) {
    for (session_type t : o.session_types)
      if (std::none_of(o.exec.begin(), o.exec.end(), [t](const auto& e) { return same_kind(e.first, t); }))
        return bad("the process runner needs --exec " + std::string(to_string(t)) + "=COMMAND");
  }
  if (!o.custom_runner && o.runner == runner_kind::inproc && !o.exec.empty())
    return bad("--exec needs --runner process");
  return outcome::success();
}

}  // namespace neolith
