// The wire spellings of the protocol's enumerations, and the small helpers of types.hpp.
#include <neolith/protocol/types.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace neolith {
namespace {

template <class E, std::size_t N>
using names = std::array<std::pair<E, std::string_view>, N>;

constexpr names<node_status, 4> node_status_names{{
    {node_status::healthy, "healthy"},
    {node_status::degraded, "degraded"},
    {node_status::unhealthy, "unhealthy"},
    {node_status::offline, "offline"},
}};
constexpr names<session_type, 3> session_type_names{{
    {session_type::claude_code, "claude-code"},
    {session_type::claude_flow, "claude-flow"},
    {session_type::ruflo, "ruflo"},
}};
constexpr names<task_type, 5> task_type_names{{
    {task_type::code, "code"},
    {task_type::research, "research"},
    {task_type::analysis, "analysis"},
    {task_type::custom, "custom"},
    {task_type::general, "general"},
}};
constexpr names<task_priority, 4> task_priority_names{{
    {task_priority::low, "low"},
    {task_priority::medium, "medium"},
    {task_priority::high, "high"},
    {task_priority::critical, "critical"},
}};
constexpr names<task_status, 5> task_status_names{{
    {task_status::pending, "pending"},
    {task_status::in_progress, "in_progress"},
    {task_status::completed, "completed"},
    {task_status::failed, "failed"},
    {task_status::cancelled, "cancelled"},
}};
constexpr names<memory_entry_type, 4> memory_entry_type_names{{
    {memory_entry_type::interaction, "interaction"},
    {memory_entry_type::observation, "observation"},
    {memory_entry_type::decision, "decision"},
    {memory_entry_type::knowledge, "knowledge"},
}};
constexpr names<session_status, 6> session_status_names{{
    {session_status::initializing, "initializing"},
    {session_status::running, "running"},
    {session_status::paused, "paused"},
    {session_status::completed, "completed"},
    {session_status::failed, "failed"},
    {session_status::terminated, "terminated"},
}};

// Each table lists its enumerators in declaration order, so the name is found by index.
template <class E, std::size_t N>
constexpr bool in_order(const names<E, N>& table) {
  for (std::size_t i = 0; i < N; ++i) {
    if (static_cast<std::size_t>(table[i].first) != i) return false;
  }
  return true;
}
static_assert(in_order(node_status_names) && in_order(session_type_names) &&
              in_order(task_type_names) && in_order(task_priority_names) &&
              in_order(task_status_names) && in_order(memory_entry_type_names) &&
              in_order(session_status_names));

template <class E, std::size_t N>
std::string_view name_of(const names<E, N>& table, E v) noexcept {
  const auto i = static_cast<std::size_t>(v);
  return i < N ? table[i].second : std::string_view("unknown");
}

template <class E, std::size_t N>
std::optional<E> parse_name(const names<E, N>& table, std::string_view s) noexcept {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

}  // namespace

timestamp now_timestamp() noexcept {
  return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string_view to_string(node_status v) noexcept { return name_of(node_status_names, v); }
std::string_view to_string(session_type v) noexcept { return name_of(session_type_names, v); }
std::string_view to_string(task_type v) noexcept { return name_of(task_type_names, v); }
std::string_view to_string(task_priority v) noexcept { return name_of(task_priority_names, v); }
std::string_view to_string(task_status v) noexcept { return name_of(task_status_names, v); }
std::string_view to_string(memory_entry_type v) noexcept { return name_of(memory_entry_type_names, v); }
std::string_view to_string(session_status v) noexcept { return name_of(session_status_names, v); }

std::optional<node_status> parse_node_status(std::string_view s) noexcept {
  return parse_name(node_status_names, s);
}
std::optional<session_type> parse_session_type(std::string_view s) noexcept {
  return parse_name(session_type_names, s);
}
std::optional<task_type> parse_task_type(std::string_view s) noexcept {
  return parse_name(task_type_names, s);
}
std::optional<task_priority> parse_task_priority(std::string_view s) noexcept {
  return parse_name(task_priority_names, s);
}
std::optional<task_status> parse_task_status(std::string_view s) noexcept {
  return parse_name(task_status_names, s);
}
std::optional<memory_entry_type> parse_memory_entry_type(std::string_view s) noexcept {
  return parse_name(memory_entry_type_names, s);
}
std::optional<session_status> parse_session_status(std::string_view s) noexcept {
  return parse_name(session_status_names, s);
}

bool node_capabilities::supports(session_type t) const noexcept {
  // An older daemon lists "claude-flow" only, and runs a "ruflo" session all the same.
  return std::any_of(supported_session_types.begin(), supported_session_types.end(),
                     [t](session_type have) { return same_kind(have, t); });
}

}  // namespace neolith
