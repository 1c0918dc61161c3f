// Sample values of every wire type and message, shared by the codec tests, the fuzzer's
// corpus checks and the codec benchmark.
#ifndef NEOLITH_TEST_CODEC_SAMPLES_HPP
#define NEOLITH_TEST_CODEC_SAMPLES_HPP

#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/parse.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace neolith::samples {

/// 2026-11-29T08:47:57.123Z
inline timestamp t0() { return timestamp{std::chrono::milliseconds{1795942077123}}; }
inline timestamp at(std::int64_t offset_ms) { return t0() + std::chrono::milliseconds{offset_ms}; }

inline node_health health() {
  node_health h;
  h.status = node_status::healthy;
  h.cpu_usage = 12.5;
  h.memory_usage = 40;
  h.active_sessions = 3;
  h.response_time = 4.25;
  h.last_heartbeat = t0();
  h.uptime = 3600;
  return h;
}

inline node_capabilities capabilities(bool with_custom = true) {
  node_capabilities c;
  c.can_spawn_sessions = true;
  c.max_concurrent_sessions = 10;
  c.supported_session_types = {session_type::claude_code, session_type::claude_flow};
  c.has_gpu_access = false;
  c.has_high_memory = true;
  if (with_custom) c.custom_capabilities = std::map<std::string, bool>{{"docker", true}, {"gpu-a100", false}};
  return c;
}

inline task make_task(bool full = true) {
  task t;
  t.id = "task-1";
  t.type = task_type::code;
  t.description = "Refactor the parser \u65e5\u672c\u8a9e \U0001F680 \"quoted\" \\ back\tslash";
  t.priority = task_priority::high;
  t.status = task_status::in_progress;
  t.created_at = t0();
  t.updated_at = at(1000);
  if (full) {
    t.assigned_to = "agent-7";
    t.metadata = boost::json::parse(R"({"repo":"neolith","labels":["a","b"],"depth":{"x":1,"y":[null,true,2.5]}})").as_object();
  }
  return t;
}

inline memory_entry entry(int i, bool with_metadata) {
  memory_entry e;
  e.id = "mem-" + std::to_string(i);
  e.content = "observation " + std::to_string(i);
  e.time = at(i);
  e.type = static_cast<memory_entry_type>(i % 4);
  if (with_metadata) e.metadata = boost::json::parse(R"({"source":"test"})").as_object();
  return e;
}

inline session make_session(bool full = true, std::string id = "session-1") {
  session s;
  s.id = std::move(id);
  s.orchestrator_id = "orch-1";
  s.task = make_task(full);
  s.type = full ? session_type::claude_flow : session_type::claude_code;
  s.status = full ? session_status::terminated : session_status::running;
  s.started_at = t0();
  if (full) {
    s.ended_at = at(60'000);
    s.memory.scratchpad = boost::json::parse(R"({"notes":"n","count":2})").as_object();
    s.memory.episodic = {entry(1, true), entry(2, false)};
    s.memory.semantic = {entry(3, false)};
  }
  s.metrics.tokens_used = full ? 12345 : 0;
  s.metrics.duration = full ? 60000 : 0;
  s.metrics.tasks_completed = full ? 1 : 0;
  s.metrics.errors_encountered = 0;
  s.metrics.average_response_time = full ? 12.75 : 0;
  return s;
}

inline session_spawn_request spawn_request(bool full = true) {
  session_spawn_request r;
  r.orchestrator_id = "orch-1";
  r.task = make_task(full);
  r.type = session_type::claude_code;
  if (full) {
    r.memory_profile = "default";
    r.priority = task_priority::critical;
  }
  return r;
}

inline serialized_session serialized(bool full = true) {
  serialized_session s;
  s.session = make_session(full);
  if (full) s.memory_snapshot = boost::json::parse(R"({"scratchpad":{"k":"v"},"size":3})").as_object();
  s.metadata.serialized_at = at(5);
  s.metadata.node_id = "node-a";
  s.metadata.version = "1.0.0";
  return s;
}

/// One message of every type, with optional fields present (`full`) or absent.
inline std::vector<message> all_messages(bool full) {
  std::optional<std::string> id;
  if (full) id = "req-1";
  std::vector<message> out;
  out.emplace_back(msg::spawn_session{id, spawn_request(full)});
  out.emplace_back(msg::get_session{id, "session-1"});
  out.emplace_back(msg::terminate_session{id, "session-1"});
  out.emplace_back(msg::restore_session{id, serialized(full)});
  out.emplace_back(msg::get_health{id});
  out.emplace_back(msg::get_sessions{id});
  out.emplace_back(msg::get_node_info{id});
  msg::heartbeat hb{id, std::nullopt, std::nullopt};
  if (full) {
    hb.time = t0();
    hb.health = health();
  }
  out.emplace_back(hb);
  out.emplace_back(msg::session_spawned{id, "session-1", make_session(full)});
  msg::session_state state{id, "session-1", std::nullopt};
  if (full) state.session = make_session(true);
  out.emplace_back(state);
  out.emplace_back(msg::session_terminated{id, "session-1", full});
  out.emplace_back(msg::session_restored{id, "session-1", !full});
  out.emplace_back(msg::health_response{id, health()});
  msg::sessions_response list{id, {}};
  if (full) list.sessions = {make_session(true, "s-a"), make_session(false, "s-b")};
  out.emplace_back(list);
  out.emplace_back(msg::heartbeat_ack{id, 1795942077123});
  out.emplace_back(msg::node_info{id, "node-a", "0.1.0", 1, capabilities(full)});
  out.emplace_back(msg::session_updated{id, "session-1", make_session(full)});
  msg::error err{id, "the node is at its maximum number of sessions", std::nullopt, "capacity_exceeded"};
  if (full) err.request_type = "spawn_session";
  out.emplace_back(err);
  return out;
}

/// A sessions_response listing `n` full sessions.
inline msg::sessions_response many_sessions(std::size_t n) {
  msg::sessions_response r;
  r.request_id = "req-many";
  r.sessions.reserve(n);
  for (std::size_t i = 0; i < n; ++i) r.sessions.push_back(make_session(i % 2 == 0, "s-" + std::to_string(i)));
  return r;
}

}  // namespace neolith::samples

#endif  // NEOLITH_TEST_CODEC_SAMPLES_HPP
