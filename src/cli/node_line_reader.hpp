// Reads lines from a file descriptor (stdin) on a thread of its own, so that reading never blocks
// an io_context: works the same for pipes, terminals, regular files and /dev/null (where an
// Asio stream_descriptor cannot be used). Lines are bounded in length, and the number of lines
// handed out but not yet released is bounded too (reading pauses: backpressure).
#ifndef NEOLITH_CLI_NODE_LINE_READER_HPP
#define NEOLITH_CLI_NODE_LINE_READER_HPP

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace neolith::cli {

class line_reader {
 public:
  struct handlers {
    /// A line (without its "\n" and a "\r" before it); `number` counts from 1. Takes a slot.
    std::function<void(std::string line, std::uint64_t number)> line;
    /// Line `number` is longer than the limit; the rest of it is skipped. Takes a slot.
    std::function<void(std::uint64_t number)> too_long;
    /// The end of input (nullopt), or a read error (its text). Called once, last, unless the
    /// reader was stopped.
    std::function<void(std::optional<std::string> error)> end;
  };

  /// `max_line`: the longest line (bytes before its "\n"); `max_pending`: lines handed out and not yet `release()`d
  /// before reading pauses. The handlers are called on the reader's thread.
  line_reader(int fd, std::size_t max_line, std::size_t max_pending, handlers h);
  /// Stops and joins.
  ~line_reader();
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  /// Starts the thread (once).
  void start();
  /// One line handed out has been dealt with (any thread).
  void release();
  /// Makes the thread end soon (no more handler calls) and joins it. Idempotent; not from a
  /// handler.
  void stop();

 private:
  void run();
  /// Waits for a free slot; false when stopped.
  bool acquire();
  bool stopped() const;

  int fd_;
  std::size_t max_line_;
  std::size_t max_pending_;
  handlers h_;
  int wake_[2] = {-1, -1};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t pending_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace neolith::cli

#endif  // NEOLITH_CLI_NODE_LINE_READER_HPP
