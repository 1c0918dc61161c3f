// Golden messages: the exact JSON texts the TypeScript DaemonNode sends or expects (camelCase
// names, JavaScript dates, `requestId` last, `session: null` for an unknown session). The
// same texts are in docs/protocol.md ("Golden examples"); test_protocol checks both.
#ifndef NEOLITH_TEST_CODEC_GOLDEN_HPP
#define NEOLITH_TEST_CODEC_GOLDEN_HPP

#include <array>
#include <string_view>

namespace neolith::golden {

struct example {
  std::string_view type;
  std::string_view json;
};

// clang-format off
inline constexpr std::string_view task_json =
    R"j({"id":"task-1","type":"code","description":"Refactor the parser","priority":"high","status":"pending","createdAt":"2026-11-29T08:47:57.123Z","updatedAt":"2026-11-29T08:47:57.123Z"})j";

/// The spawn_session request, byte for byte as `encode()` writes it.
inline constexpr std::string_view spawn_session =
    R"j({"type":"spawn_session","request":{"orchestratorId":"orch-1","task":{"id":"task-1","type":"code","description":"Refactor the parser","priority":"high","status":"pending","createdAt":"2026-11-29T08:47:57.123Z","updatedAt":"2026-11-29T08:47:57.123Z"},"sessionType":"claude-code","memoryProfile":"default","priority":"high"},"requestId":"spawn_session_1795942077123_0.5"})j";

inline constexpr std::array<example, 18> examples{{
    {"spawn_session", spawn_session},
    {"get_session", R"j({"type":"get_session","sessionId":"session-1","requestId":"get_session_1795942077123_0.25"})j"},
    {"terminate_session", R"j({"type":"terminate_session","sessionId":"session-1","requestId":"terminate_session_1795942077123_0.75"})j"},
    {"restore_session", R"j({"type":"restore_session","serializedSession":{"session":{"id":"session-1","orchestratorId":"orch-1","task":{"id":"task-1","type":"research","description":"Survey","priority":"low","assignedTo":"agent-7","status":"in_progress","createdAt":"2026-11-29T08:47:57.123Z","updatedAt":"2026-11-29T08:48:00.000Z","metadata":{"repo":"neolith","tags":["a","b"]}},"type":"claude-flow","status":"paused","startedAt":"2026-11-29T08:47:57.123Z","memoryContext":{"scratchpad":{"step":3},"episodic":[{"id":"m-1","content":"saw a failing test","timestamp":"2026-11-29T08:47:58.000Z","type":"observation"}],"semantic":[{"id":"m-2","content":"the parser is recursive","timestamp":"2026-11-29T08:47:59.500Z","type":"knowledge","metadata":{"confidence":0.9}}]},"metrics":{"tokensUsed":1500,"duration":2877,"tasksCompleted":0,"errorsEncountered":1,"averageResponseTime":420.5}},"memorySnapshot":{"scratchpad":{"step":3},"vectors":[0.25,0.5]},"metadata":{"serializedAt":"2026-11-29T08:48:00.000Z","nodeId":"node-a","version":"1.0.0"}},"requestId":"restore_session_1795942080000_0.125"})j"},
    {"get_health", R"j({"type":"get_health","requestId":"get_health_1795942077123_0.5"})j"},
    {"get_sessions", R"j({"type":"get_sessions","requestId":"get_sessions_1795942077123_0.5"})j"},
    {"get_node_info", R"j({"type":"get_node_info","requestId":"get_node_info_1795942077123_0.5"})j"},
    {"heartbeat", R"j({"type":"heartbeat","timestamp":1795942077123,"health":{"status":"healthy","cpuUsage":12.5,"memoryUsage":40,"activeSessions":3,"responseTime":4,"lastHeartbeat":"2026-11-29T08:47:57.123Z","uptime":3600}})j"},
    {"session_spawned", R"j({"type":"session_spawned","sessionId":"session-1","session":{"id":"session-1","orchestratorId":"orch-1","task":{"id":"task-1","type":"code","description":"Refactor the parser","priority":"high","status":"pending","createdAt":"2026-11-29T08:47:57.123Z","updatedAt":"2026-11-29T08:47:57.123Z"},"type":"claude-code","status":"running","startedAt":"2026-11-29T08:47:57.200Z","memoryContext":{"scratchpad":{},"episodic":[],"semantic":[]},"metrics":{"tokensUsed":0,"duration":0,"tasksCompleted":0,"errorsEncountered":0,"averageResponseTime":0}},"requestId":"spawn_session_1795942077123_0.5"})j"},
    {"session_state", R"j({"type":"session_state","sessionId":"session-404","session":null,"requestId":"get_session_1795942077123_0.25"})j"},
    {"session_terminated", R"j({"type":"session_terminated","sessionId":"session-1","success":true,"requestId":"terminate_session_1795942077123_0.75"})j"},
    {"session_restored", R"j({"type":"session_restored","sessionId":"session-1","success":false,"requestId":"restore_session_1795942080000_0.125"})j"},
    {"health_response", R"j({"type":"health_response","health":{"status":"degraded","cpuUsage":91.25,"memoryUsage":77.5,"activeSessions":10,"responseTime":12,"lastHeartbeat":"2026-11-29T08:47:57.123Z","uptime":86400},"requestId":"get_health_1795942077123_0.5"})j"},
    {"sessions_response", R"j({"type":"sessions_response","sessions":[{"id":"session-2","orchestratorId":"orch-1","task":{"id":"task-2","type":"general","description":"Answer","priority":"medium","status":"completed","createdAt":"2026-11-29T08:00:00.000Z","updatedAt":"2026-11-29T08:30:00.000Z"},"type":"claude-code","status":"completed","startedAt":"2026-11-29T08:00:00.010Z","endedAt":"2026-11-29T08:30:00.000Z","memoryContext":{"scratchpad":{},"episodic":[],"semantic":[]},"metrics":{"tokensUsed":52000,"duration":1799990,"tasksCompleted":1,"errorsEncountered":0,"averageResponseTime":830.25}}],"requestId":"get_sessions_1795942077123_0.5"})j"},
    {"heartbeat_ack", R"j({"type":"heartbeat_ack","timestamp":1795942077123})j"},
    {"node_info", R"j({"type":"node_info","nodeId":"node-a","version":"0.1.0","protocolVersion":1,"capabilities":{"canSpawnSessions":true,"maxConcurrentSessions":10,"supportedSessionTypes":["claude-code","claude-flow"],"hasGPUAccess":false,"hasHighMemory":true,"customCapabilities":{"docker":true}},"requestId":"get_node_info_1795942077123_0.5"})j"},
    {"session_updated", R"j({"type":"session_updated","sessionId":"session-2","session":{"id":"session-2","orchestratorId":"orch-1","task":{"id":"task-2","type":"analysis","description":"Profile","priority":"critical","status":"failed","createdAt":"2026-11-29T08:00:00.000Z","updatedAt":"2026-11-29T08:01:00.000Z"},"type":"claude-flow","status":"failed","startedAt":"2026-11-29T08:00:00.010Z","endedAt":"2026-11-29T08:01:00.000Z","memoryContext":{"scratchpad":{},"episodic":[],"semantic":[]},"metrics":{"tokensUsed":10,"duration":59990,"tasksCompleted":0,"errorsEncountered":1,"averageResponseTime":0}}})j"},
    {"error", R"j({"type":"error","error":"the node is at its maximum number of sessions (capacity_exceeded)","requestType":"spawn_session","code":"capacity_exceeded","requestId":"spawn_session_1795942077123_0.5"})j"},
}};
// clang-format on

}  // namespace neolith::golden

#endif  // NEOLITH_TEST_CODEC_GOLDEN_HPP
