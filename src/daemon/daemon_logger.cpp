#include <neolith/daemon/detail/daemon_logger.hpp>

#include <chrono>
#include <string>

namespace neolith::detail {

void daemon_logger::write(const log_record& r) const {
  if (!enabled(r.level)) return;
  sink_(format_log_line(r, format_, std::chrono::system_clock::now()));
}

std::function<void(std::string_view)> daemon_logger::text_sink(std::string_view event) const {
  if (threshold_ == log_level::off) return {};
  return [self = *this, event = std::string(event)](std::string_view line) { self.text(log_level::info, event, line); };
}

}  // namespace neolith::detail
