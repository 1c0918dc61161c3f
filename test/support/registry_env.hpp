// Running registry operations from a test thread: an io_context on its own thread, and a
// blocking `sync()` that runs one awaitable there and returns its value; building entries.
#pragma once

#include <neolith/cluster/location_registry.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <future>
#include <optional>
#include <string>
#include <thread>

namespace neolith::test {

/// One io_context run by one thread until the object is destroyed.
class io_thread {
 public:
  io_thread() : work_(ctx_.get_executor()), thread_([this] { ctx_.run(); }) {}
  ~io_thread() {
    work_.reset();
    // What is left (a connection's run loop after its stop) finishes on its own; bounded.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!ctx_.stopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ctx_.stop();
    thread_.join();
  }
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;

  boost::asio::io_context& context() noexcept { return ctx_; }
  boost::asio::any_io_executor executor() { return ctx_.get_executor(); }

  /// Starts `aw` on this thread; its value arrives in the future.
  template <class T>
  std::future<T> spawn(boost::asio::awaitable<T> aw) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    boost::asio::co_spawn(ctx_, deliver(std::move(aw), promise), boost::asio::detached);
    return future;
  }

  /// Runs `aw` on this thread and waits for its value (the test fails after `timeout`).
  template <class T>
  T sync(boost::asio::awaitable<T> aw, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto f = spawn(std::move(aw));
    if (f.wait_for(timeout) != std::future_status::ready) throw std::runtime_error("operation did not complete in time");
    return f.get();
  }

 private:
  template <class T>
  static boost::asio::awaitable<void> deliver(boost::asio::awaitable<T> aw, std::shared_ptr<std::promise<T>> p) {
    try {
      p->set_value(co_await std::move(aw));
    } catch (...) {
      p->set_exception(std::current_exception());
    }
  }

  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace neolith::test

namespace neolith::test {

/// An entry to claim: session `id` on `node`, type "claude-code", metadata `meta`.
inline cluster::session_location loc(std::string id, std::string node, std::string meta = "{}") {
  cluster::session_location l;
  l.session_id = std::move(id);
  l.node_id = std::move(node);
  l.session_type = "claude-code";
  l.metadata = std::move(meta);
  return l;
}

/// A compare-and-set's change: to `node`, state `s`, metadata `meta` (kept when nullopt).
inline cluster::location_update to(std::string node, cluster::location_state s = cluster::location_state::placed,
                                   std::optional<std::string> meta = std::nullopt) {
  return {std::move(node), s, std::move(meta)};
}

/// The failure of `r` as text, or "" for a success (for test messages, which are evaluated
/// even when the check passes).
template <class R>
std::string why(const R& r) {
  return r.has_value() ? std::string() : r.error().what();
}

}  // namespace neolith::test
