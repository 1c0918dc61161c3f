#include "node_line_reader.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace neolith::cli {

line_reader::line_reader(int fd, std::size_t max_line, std::size_t max_pending, handlers h)
    : fd_(fd), max_line_(max_line), max_pending_(max_pending == 0 ? 1 : max_pending), h_(std::move(h)) {
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
}

line_reader::~line_reader() {
  stop();
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void line_reader::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void line_reader::release() {
  {
    std::lock_guard lock(mutex_);
    if (pending_ > 0) --pending_;
  }
  cv_.notify_all();
}

void line_reader::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      const char b = 1;
      // The pipe is empty (written once): this cannot block.
      [[maybe_unused]] const ssize_t w = ::write(wake_[1], &b, 1);
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool line_reader::stopped() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool line_reader::acquire() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return stopping_ || pending_ < max_pending_; });
  if (stopping_) return false;
  ++pending_;
  return true;
}

void line_reader::run() {
  std::string line;
  bool skipping = false;  // inside a line that was too long
  std::uint64_t number = 0;
  std::vector<char> buf(64 * 1024);

  const auto deliver = [&]() -> bool {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!acquire()) return false;
    h_.line(std::move(line), ++number);
    line.clear();
    return true;
  };

  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!stopped()) h_.end(std::string("poll: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;  // stopped
    if (fds[0].revents & POLLNVAL) {
      h_.end(std::string("stdin is not open"));
      return;
    }
    const ssize_t got = ::read(fd_, buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      const std::string why = std::string("cannot read stdin: ") + std::strerror(errno);
      if (!stopped()) h_.end(why);
      return;
    }
    if (got == 0) {
      if (!skipping && !line.empty() && !deliver()) return;  // a last line without "\n"
      if (!stopped()) h_.end(std::nullopt);
      return;
    }
    std::string_view chunk(buf.data(), static_cast<std::size_t>(got));
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      const std::string_view part = chunk.substr(0, nl);
      if (!skipping) {
        if (line.size() + part.size() > max_line_) {
          line.clear();
          skipping = true;
          if (!acquire()) return;
          h_.too_long(++number);
        } else {
          line.append(part);
        }
      }
      if (nl == std::string_view::npos) break;
      chunk.remove_prefix(nl + 1);
      if (skipping) {
        skipping = false;
      } else if (!deliver()) {
        return;
      }
    }
  }
}

}  // namespace neolith::cli
