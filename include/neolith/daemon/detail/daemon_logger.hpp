// The daemon's log sink: filters events by level (one branch, nothing built when filtered
// out), formats the rest as text or JSON lines (neolith/daemon/log.hpp) and hands them to
// `daemon_options::log`. Thread-safe (immutable once built; the sink must be thread-safe).
#ifndef NEOLITH_DAEMON_DETAIL_DAEMON_LOGGER_HPP
#define NEOLITH_DAEMON_DETAIL_DAEMON_LOGGER_HPP

#include <neolith/daemon/daemon_options.hpp>
#include <neolith/daemon/log.hpp>

#include <functional>
#include <string_view>

namespace neolith::detail {

class daemon_logger {
 public:
  explicit daemon_logger(const daemon_options& o)
      : sink_(o.log), threshold_(o.log ? o.log_threshold : log_level::off), format_(o.log_line_format) {}

  /// True when an event of level `l` is written: test it before building an event's text.
  bool enabled(log_level l) const noexcept { return l >= threshold_ && threshold_ != log_level::off; }

  /// Formats and writes `r` (when its level is enabled).
  void write(const log_record& r) const;

  /// A free-text event.
  void text(log_level l, std::string_view event, std::string_view message) const {
    if (!enabled(l)) return;
    log_record r;
    r.level = l;
    r.event = event;
    r.message = message;
    write(r);
  }

  /// A sink for the raw lines of a component that writes free text (e.g. the process runner):
  /// each becomes an `event` of level info.
  std::function<void(std::string_view)> text_sink(std::string_view event) const;

 private:
  std::function<void(std::string_view)> sink_;
  log_level threshold_;
  log_format format_;
};

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_DAEMON_LOGGER_HPP
