// The value types of the wire protocol (protocol-v1.md, "Types"), as plain C++ values.
// Field names follow Boost style; their JSON names are the protocol's camelCase ones
// (see json.hpp for the conversions).
#ifndef NEOLITH_PROTOCOL_TYPES_HPP
#define NEOLITH_PROTOCOL_TYPES_HPP

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neolith {

/// A point in time with millisecond precision, as JavaScript's Date holds it.
using timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// The current time, truncated to milliseconds.
timestamp now_timestamp() noexcept;

// ----- Enumerations (the protocol's string unions) -------------------------------------

enum class node_status { healthy, degraded, unhealthy, offline };
/// wire: "claude-code", "claude-flow", "ruflo". `ruflo` is the platform's later name of
/// claude-flow: the same kind of session (see `same_kind`), kept apart so that a session is
/// reported with the spelling it was spawned or restored with.
enum class session_type { claude_code, claude_flow, ruflo };
enum class task_type { code, research, analysis, custom, general };
enum class task_priority { low, medium, high, critical };
enum class task_status { pending, in_progress, completed, failed, cancelled };
enum class memory_entry_type { interaction, observation, decision, knowledge };
enum class session_status { initializing, running, paused, completed, failed, terminated };

/// The wire spelling of each enumerator ("claude-code", "in_progress", ...).
std::string_view to_string(node_status v) noexcept;
std::string_view to_string(session_type v) noexcept;
std::string_view to_string(task_type v) noexcept;
std::string_view to_string(task_priority v) noexcept;
std::string_view to_string(task_status v) noexcept;
std::string_view to_string(memory_entry_type v) noexcept;
std::string_view to_string(session_status v) noexcept;

/// Parses the wire spelling; nullopt when `s` is not one of the values.
std::optional<node_status> parse_node_status(std::string_view s) noexcept;
std::optional<session_type> parse_session_type(std::string_view s) noexcept;
std::optional<task_type> parse_task_type(std::string_view s) noexcept;
std::optional<task_priority> parse_task_priority(std::string_view s) noexcept;
std::optional<task_status> parse_task_status(std::string_view s) noexcept;
std::optional<memory_entry_type> parse_memory_entry_type(std::string_view s) noexcept;
std::optional<session_status> parse_session_status(std::string_view s) noexcept;

/// The kind of runner a session type needs: `ruflo` is `claude_flow`, any other type itself.
constexpr session_type runner_type(session_type t) noexcept {
  return t == session_type::ruflo ? session_type::claude_flow : t;
}
/// True when `a` and `b` are spellings of the same kind of session (claude-flow and ruflo):
/// a node that runs one runs the other.
constexpr bool same_kind(session_type a, session_type b) noexcept { return runner_type(a) == runner_type(b); }

/// True for the statuses a session never leaves (completed, failed, terminated).
constexpr bool is_ended(session_status s) noexcept {
  return s == session_status::completed || s == session_status::failed || s == session_status::terminated;
}

// ----- Structures ----------------------------------------------------------------------

/// NodeHealth.
struct node_health {
  node_status status = node_status::offline;
  double cpu_usage = 0;          ///< cpuUsage, percent 0-100
  double memory_usage = 0;       ///< memoryUsage, percent 0-100
  std::int64_t active_sessions = 0;  ///< activeSessions
  double response_time = 0;      ///< responseTime, milliseconds
  timestamp last_heartbeat{};    ///< lastHeartbeat
  double uptime = 0;             ///< uptime, seconds

  friend bool operator==(const node_health&, const node_health&) = default;
};

/// NodeCapabilities.
struct node_capabilities {
  bool can_spawn_sessions = false;            ///< canSpawnSessions
  std::int64_t max_concurrent_sessions = 0;   ///< maxConcurrentSessions
  std::vector<session_type> supported_session_types;  ///< supportedSessionTypes
  bool has_gpu_access = false;                ///< hasGPUAccess
  bool has_high_memory = false;               ///< hasHighMemory
  std::optional<std::map<std::string, bool>> custom_capabilities;  ///< customCapabilities?

  /// True when `supported_session_types` contains `t`.
  bool supports(session_type t) const noexcept;

  friend bool operator==(const node_capabilities&, const node_capabilities&) = default;
};

/// Task.
struct task {
  std::string id;
  task_type type = task_type::general;
  std::string description;
  task_priority priority = task_priority::medium;
  std::optional<std::string> assigned_to;  ///< assignedTo?
  task_status status = task_status::pending;
  timestamp created_at{};                  ///< createdAt
  timestamp updated_at{};                  ///< updatedAt
  std::optional<boost::json::object> metadata;

  friend bool operator==(const task&, const task&) = default;
};

/// MemoryEntry.
struct memory_entry {
  std::string id;
  std::string content;
  timestamp time{};  ///< timestamp
  memory_entry_type type = memory_entry_type::interaction;
  std::optional<boost::json::object> metadata;

  friend bool operator==(const memory_entry&, const memory_entry&) = default;
};

/// Session.memoryContext.
struct memory_context {
  boost::json::object scratchpad;
  std::vector<memory_entry> episodic;
  std::vector<memory_entry> semantic;

  friend bool operator==(const memory_context&, const memory_context&) = default;
};

/// Session.metrics.
struct session_metrics {
  double tokens_used = 0;             ///< tokensUsed
  double duration = 0;                ///< duration, milliseconds
  double tasks_completed = 0;         ///< tasksCompleted
  double errors_encountered = 0;      ///< errorsEncountered
  double average_response_time = 0;   ///< averageResponseTime

  friend bool operator==(const session_metrics&, const session_metrics&) = default;
};

/// Session.
struct session {
  std::string id;
  std::string orchestrator_id;  ///< orchestratorId
  neolith::task task;
  session_type type = session_type::claude_code;
  session_status status = session_status::initializing;
  timestamp started_at{};                 ///< startedAt
  std::optional<timestamp> ended_at;      ///< endedAt?
  memory_context memory;                  ///< memoryContext
  session_metrics metrics;

  friend bool operator==(const session&, const session&) = default;
};

/// SessionSpawnRequest.
struct session_spawn_request {
  std::string orchestrator_id;  ///< orchestratorId
  neolith::task task;
  session_type type = session_type::claude_code;  ///< sessionType
  std::optional<std::string> memory_profile;      ///< memoryProfile?
  std::optional<task_priority> priority;

  friend bool operator==(const session_spawn_request&, const session_spawn_request&) = default;
};

/// SerializedSession.metadata.
struct serialization_metadata {
  timestamp serialized_at{};  ///< serializedAt
  std::string node_id;        ///< nodeId
  std::string version;

  friend bool operator==(const serialization_metadata&, const serialization_metadata&) = default;
};

/// SerializedSession.
struct serialized_session {
  neolith::session session;
  boost::json::object memory_snapshot;  ///< memorySnapshot
  serialization_metadata metadata;

  friend bool operator==(const serialized_session&, const serialized_session&) = default;
};

}  // namespace neolith

#endif  // NEOLITH_PROTOCOL_TYPES_HPP
