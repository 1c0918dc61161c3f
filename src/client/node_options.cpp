// node_options: the checks a node makes of its options before it starts anything.
#include <neolith/client/node_options.hpp>

#include <string>

namespace neolith {

result<void> validate(const node_options& o) {
  auto bad = [](std::string m) { return error_info(error::invalid_options, std::move(m)); };
  auto positive = [](node_options::ms v) { return v.count() > 0; };
  if (!positive(o.connect_timeout)) return bad("connect_timeout must be positive");
  if (!positive(o.request_timeout)) return bad("request_timeout must be positive");
  if (!positive(o.health_timeout)) return bad("health_timeout must be positive");
  if (!positive(o.heartbeat_interval)) return bad("heartbeat_interval must be positive");
  if (!positive(o.heartbeat_timeout)) return bad("heartbeat_timeout must be positive");
  if (o.backoff_base.count() < 0) return bad("backoff_base must not be negative");
  if (!positive(o.backoff_max)) return bad("backoff_max must be positive");
  if (o.backoff_base > o.backoff_max) return bad("backoff_base must not exceed backoff_max");
  if (o.max_attempts < 0) return bad("max_attempts must not be negative");
  if (!(o.jitter >= 0.0 && o.jitter <= 1.0)) return bad("jitter must be from 0 to 1");
  if (o.queue_max == 0) return bad("queue_max must be at least 1");
  if (o.max_message_bytes < 1024) return bad("max_message_bytes must be at least 1024");
  if (o.event_queue_capacity == 0) return bad("event_queue_capacity must be at least 1");
  if (o.bearer_token && o.bearer_token->empty()) return bad("bearer_token is set but empty");
  return outcome::success();
}

}  // namespace neolith
