// A thread-safe log sink for tests: the daemon's lines, kept for the test to inspect.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace neolith::test {

struct log_lines {
  std::shared_ptr<std::mutex> m = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();

  /// A sink for daemon_options::log (copies share the lines).
  std::function<void(std::string_view)> sink() const {
    return [m = m, lines = lines](std::string_view l) {
      std::lock_guard lock(*m);
      lines->emplace_back(l);
    };
  }
  /// The lines that contain `part`.
  std::size_t count(const std::string& part) const {
    std::lock_guard lock(*m);
    return static_cast<std::size_t>(std::count_if(lines->begin(), lines->end(), [&](const std::string& l) {
      return l.find(part) != std::string::npos;
    }));
  }
  /// A copy of every line so far.
  std::vector<std::string> all() const {
    std::lock_guard lock(*m);
    return *lines;
  }
};

}  // namespace neolith::test
