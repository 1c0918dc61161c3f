#include <neolith/daemon/detail/daemon_core.hpp>

#include <neolith/daemon/detail/session_journal.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <variant>

namespace neolith::detail {

namespace {

error wire_error_of(const error_code& ec) {
  if (ec.category() == error_category()) return static_cast<error>(ec.value());
  return error::internal;
}

session_registry_limits limits_of(const daemon_options& o) {
  session_registry_limits l;
  l.max_live = o.max_sessions;
  l.types = o.session_types;
  l.ended_retention = o.ended_session_retention;
  l.max_ended = o.max_ended_sessions;
  return l;
}

/// True when `text` is a JSON object (at most 64 levels deep) whose `requestId`, if any, is a
/// string: a heartbeat whose envelope is sound, whatever its other fields hold.
bool lenient_heartbeat(std::string_view text) {
  boost::json::parse_options po;
  po.max_depth = max_json_depth;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec, {}, po);
  if (ec || !v.is_object()) return false;
  const auto* id = v.as_object().if_contains("requestId");
  return !id || id->is_string() || id->is_null();
}

}  // namespace

daemon_core::daemon_core(const daemon_options& opts, std::shared_ptr<session_runner> runner)
    : opts_(opts),
      registry_(std::make_shared<session_registry>(limits_of(opts), std::move(runner))),
      node_id_(opts.node_id),
      idempotency_(opts.idempotency_window, opts.idempotency_max_entries, opts.idempotency_max_bytes) {}

std::string daemon_core::node_id() const {
  std::lock_guard lock(id_mu_);
  return node_id_;
}

void daemon_core::set_node_id(std::string id) {
  std::lock_guard lock(id_mu_);
  node_id_ = std::move(id);
}

void daemon_core::log(log_record r) const {
  if (!logger_.enabled(r.level)) return;
  const std::string node = r.node.empty() ? node_id() : std::string();
  if (r.node.empty()) r.node = node;
  logger_.write(r);
}

void daemon_core::log_session(std::string_view id, session_status st, std::string_view request_id) const {
  if (!logger_.enabled(log_level::info)) return;
  log_record r;
  r.event = "session_state";
  r.session = id;
  r.status = to_string(st);
  r.request_id = request_id;
  log(r);
}

node_capabilities daemon_core::capabilities() const {
  node_capabilities c;
  c.can_spawn_sessions = opts_.max_sessions > 0 && !opts_.session_types.empty();
  c.max_concurrent_sessions = static_cast<std::int64_t>(opts_.max_sessions);
  // Every spelling of each kind run here: a node that runs claude-flow lists "ruflo" too, so
  // that a client of either name finds its type.
  for (session_type t : {session_type::claude_code, session_type::claude_flow, session_type::ruflo}) {
    const auto runs = [t](session_type have) { return same_kind(have, t); };
    if (std::any_of(opts_.session_types.begin(), opts_.session_types.end(), runs))
      c.supported_session_types.push_back(t);
  }
  c.has_gpu_access = opts_.has_gpu_access;
  c.has_high_memory = opts_.has_high_memory;
  if (!opts_.custom_capabilities.empty()) c.custom_capabilities = opts_.custom_capabilities;
  return c;
}

node_health daemon_core::health() const {
  node_health h;
  h.cpu_usage = std::round(sampler_.cpu_usage() * 100) / 100;
  h.memory_usage = std::round(sampler_.memory_usage() * 100) / 100;
  const std::size_t live = registry_->live_count();
  h.active_sessions = static_cast<std::int64_t>(live);
  h.response_time = std::round(times_.mean_ms() * 1000) / 1000;
  h.last_heartbeat = now_timestamp();
  h.uptime = static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(clock::now() - started_).count());
  h.status = classify_health(opts_.thresholds, h.cpu_usage, h.memory_usage, live, opts_.max_sessions,
                             h.response_time);
  return h;
}

std::string daemon_core::finish(const message& answer, const std::optional<std::string>& request_id,
                                std::string_view request_type) {
  std::string text = encode(answer);
  if (text.size() <= opts_.max_message_bytes) return text;
  counters_.responses_too_large.fetch_add(1, std::memory_order_relaxed);
  msg::error e;
  e.request_id = request_id;
  e.text = "the response (" + std::to_string(text.size()) + " bytes) would exceed the maximum message size (" +
           std::to_string(opts_.max_message_bytes) + " bytes)";
  if (!request_type.empty()) e.request_type = std::string(request_type);
  e.code = std::string(wire_code(error::response_too_large));
  std::string small = encode(message(std::move(e)));
  if (small.size() <= opts_.max_message_bytes) return small;
  // The requestId alone is too large to answer within the limit: nothing can be sent.
  return {};
}

std::string daemon_core::error_text(const std::optional<std::string>& request_id,
                                    std::string_view request_type, const error_info& e) {
  msg::error m;
  m.request_id = request_id;
  m.text = e.message.empty() ? e.what() : e.message;
  if (!request_type.empty()) m.request_type = std::string(request_type);
  m.code = std::string(wire_code(wire_error_of(e.code)));
  if (logger_.enabled(log_level::warning)) {
    log_record r;
    r.level = log_level::warning;
    r.event = "request_refused";
    r.request_id = request_id ? std::string_view(*request_id) : std::string_view();
    r.error = m.code;
    r.message = m.text;
    log(r);
  }
  return finish(message(std::move(m)), request_id, request_type);
}

template <class Request, class Exec>
std::string daemon_core::mutating(const Request& r, message_type t, Exec&& exec) {
  const std::string_view type = to_string(t);
  std::string answer;
  std::uint64_t journaled = 0;
  {
    std::lock_guard lock(mutate_mu_);
    const auto now = clock::now();
    const std::string* recorded = r.request_id ? idempotency_.find(type, *r.request_id, now) : nullptr;
    if (recorded) {
      counters_.replays_served.fetch_add(1, std::memory_order_relaxed);
      answer = *recorded;
    } else {
      counters_.requests[static_cast<std::size_t>(t)].fetch_add(1, std::memory_order_relaxed);
      bool record = true;
      answer = exec(record);
      if (r.request_id && record && !answer.empty()) idempotency_.record(type, *r.request_id, answer, now);
    }
    if (const auto& j = registry_->journal()) journaled = j->appended();
  }
  // Durable before answered (a replay too: its first answer may not be yet). Outside the lock,
  // so that concurrent requests share one fsync (group commit).
  if (journaled != 0) {
    if (auto synced = registry_->journal()->sync(journaled); !synced) {
      logger_.text(log_level::error, "journal_failed", synced.error().what());
      return error_text(r.request_id, type,
                        error_info(error::internal, "the session journal could not be written: " + synced.error().what()));
    }
  }
  return answer;
}

std::string daemon_core::handle_message(const message& m) {
  return std::visit(
      [&](const auto& req) -> std::string {
        using T = std::decay_t<decltype(req)>;
        const auto& rid = req.request_id;
        if constexpr (std::is_same_v<T, msg::spawn_session>) {
          return mutating(req, message_type::spawn_session, [&](bool& record) {
            auto s = registry_->spawn(req.request);
            if (!s) {
              const error e = wire_error_of(s.error().code);
              record = e != error::internal && e != error::rate_limited && e != error::shutting_down;
              return error_text(rid, "spawn_session", s.error());
            }
            counters_.spawns_executed.fetch_add(1, std::memory_order_relaxed);
            log_session(s.value().id, s.value().status, rid ? std::string_view(*rid) : std::string_view());
            msg::session_spawned a;
            a.request_id = rid;
            a.session_id = s.value().id;
            a.session = std::move(s).value();
            return finish(message(std::move(a)), rid, "spawn_session");
          });
        } else if constexpr (std::is_same_v<T, msg::terminate_session>) {
          return mutating(req, message_type::terminate_session, [&](bool&) {
            msg::session_terminated a;
            a.request_id = rid;
            a.session_id = req.session_id;
            a.success = registry_->terminate(req.session_id);
            if (a.success) log_session(req.session_id, session_status::terminated, rid ? std::string_view(*rid) : std::string_view());
            return finish(message(std::move(a)), rid, "terminate_session");
          });
        } else if constexpr (std::is_same_v<T, msg::restore_session>) {
          return mutating(req, message_type::restore_session, [&](bool& record) {
            auto ok = registry_->restore(req.serialized);
            if (!ok) {
              const error e = wire_error_of(ok.error().code);
              record = e != error::internal && e != error::rate_limited && e != error::shutting_down;
              return error_text(rid, "restore_session", ok.error());
            }
            msg::session_restored a;
            a.request_id = rid;
            a.session_id = req.serialized.session.id;
            a.success = ok.value();
            if (a.success) log_session(a.session_id, session_status::running, rid ? std::string_view(*rid) : std::string_view());
            return finish(message(std::move(a)), rid, "restore_session");
          });
        } else {
          counters_.requests[m.index()].fetch_add(1, std::memory_order_relaxed);
          if constexpr (std::is_same_v<T, msg::get_session>) {
            msg::session_state a;
            a.request_id = rid;
            a.session_id = req.session_id;
            a.session = registry_->get(req.session_id);
            return finish(message(std::move(a)), rid, "get_session");
          } else if constexpr (std::is_same_v<T, msg::get_health>) {
            msg::health_response a;
            a.request_id = rid;
            a.health = health();
            return finish(message(std::move(a)), rid, "get_health");
          } else if constexpr (std::is_same_v<T, msg::get_sessions>) {
            msg::sessions_response a;
            a.request_id = rid;
            a.sessions = registry_->list();
            return finish(message(std::move(a)), rid, "get_sessions");
          } else if constexpr (std::is_same_v<T, msg::get_node_info>) {
            msg::node_info a;
            a.request_id = rid;
            a.node_id = node_id();
            a.version = opts_.version;
            a.protocol = protocol_version;
            a.capabilities = capabilities();
            return finish(message(std::move(a)), rid, "get_node_info");
          } else if constexpr (std::is_same_v<T, msg::heartbeat>) {
            msg::heartbeat_ack a;
            a.request_id = rid;
            a.time = now_timestamp().time_since_epoch().count();
            return finish(message(std::move(a)), rid, "heartbeat");
          } else if constexpr (std::is_same_v<T, msg::heartbeat_ack>) {
            return std::string{};  // the ack of our own heartbeat: not answered
          } else {
            // An answer or push type sent to the daemon: not a request it serves.
            const std::string_view type = to_string(type_of(m));
            return error_text(rid, type,
                              error_info(error::unknown_type, "'" + std::string(type) + "' is not a request"));
          }
        }
      },
      m);
}

std::string daemon_core::handle_text(decoder& d, std::string_view text) {
  auto m = d.decode(text);
  if (!m && d.request_type() && *d.request_type() == "heartbeat" && lenient_heartbeat(text)) {
    // A client heartbeat's `timestamp` and `health` are not interpreted (protocol-v1.md): one
    // the strict decoder refuses for them alone is still acknowledged.
    counters_.requests[static_cast<std::size_t>(message_type::heartbeat)].fetch_add(1, std::memory_order_relaxed);
    msg::heartbeat_ack a;
    a.request_id = d.request_id();
    a.time = now_timestamp().time_since_epoch().count();
    return finish(message(std::move(a)), a.request_id, "heartbeat");
  }
  if (!m) {
    counters_.decode_errors.fetch_add(1, std::memory_order_relaxed);
    msg::error e = make_error_answer(m.error(), d);
    if (logger_.enabled(log_level::warning)) {
      log_record r;
      r.level = log_level::warning;
      r.event = "request_refused";
      r.request_id = e.request_id ? std::string_view(*e.request_id) : std::string_view();
      r.error = e.code;
      r.message = e.text;
      log(r);
    }
    const auto rid = e.request_id;
    const std::string type = e.request_type.value_or(std::string{});
    return finish(message(std::move(e)), rid, type);
  }
  return handle_message(m.value());
}

std::string daemon_core::binary_answer() {
  counters_.binary_frames.fetch_add(1, std::memory_order_relaxed);
  msg::error e;
  e.text = "binary frames are not supported: send one JSON object per text frame";
  e.code = std::string(wire_code(error::invalid_message));
  return encode(message(std::move(e)));
}

std::string daemon_core::heartbeat_text() {
  msg::heartbeat h;
  h.time = now_timestamp();
  h.health = health();
  return encode(message(std::move(h)));
}

std::string daemon_core::session_updated_text(const session& s) {
  msg::session_updated u;
  u.session_id = s.id;
  u.session = s;
  std::string text = encode(message(std::move(u)));
  if (text.size() > opts_.max_message_bytes) {
    counters_.responses_too_large.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  return text;
}

void daemon_core::fill_stats(daemon_stats& s) const {
  for (std::size_t i = 0; i < s.requests.size(); ++i) s.requests[i] = counters_.requests[i].load();
  s.connections = counters_.connections.load();
  s.connections_accepted = counters_.connections_accepted.load();
  s.http_refused = counters_.http_refused.load();
  s.tls_handshakes_failed = counters_.tls_handshakes_failed.load();
  s.spawns_executed = counters_.spawns_executed.load();
  s.replays_served = counters_.replays_served.load();
  s.decode_errors = counters_.decode_errors.load();
  s.binary_frames = counters_.binary_frames.load();
  s.heartbeats_sent = counters_.heartbeats_sent.load();
  s.heartbeat_timeouts = counters_.heartbeat_timeouts.load();
  s.session_updates_sent = counters_.session_updates_sent.load();
  s.responses_too_large = counters_.responses_too_large.load();
  s.frames_compressed = counters_.deflate.frames.load();
  s.deflate_input_bytes = counters_.deflate.input_bytes.load();
  s.deflate_output_bytes = counters_.deflate.output_bytes.load();
  s.live_sessions = registry_->live_count();
  s.listed_sessions = registry_->listed_count();
  s.active_runs = registry_->runner().active_runs();
}

}  // namespace neolith::detail
