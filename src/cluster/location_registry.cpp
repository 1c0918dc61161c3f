#include <neolith/cluster/location_registry.hpp>

#include <array>

namespace neolith::cluster {

namespace {
constexpr std::array<std::string_view, 3> state_names{"placed", "moving", "ended"};
}  // namespace

std::string_view to_string(location_state s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  return i < state_names.size() ? state_names[i] : std::string_view("unknown");
}

std::optional<location_state> location_state_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < state_names.size(); ++i) {
    if (state_names[i] == name) return static_cast<location_state>(i);
  }
  return std::nullopt;
}

}  // namespace neolith::cluster
