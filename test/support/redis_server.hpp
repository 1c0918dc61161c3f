// A real redis-server (/usr/bin/redis-server, or REDIS_SERVER) for the registry's tests: on a
// unix socket in a temporary directory (or a TCP port of 127.0.0.1), no persistence; started,
// killed (SIGKILL) and restarted on the same socket/port; plus a plain blocking client
// (hiredis' own, test-only) to look at and poke its keys behind the registry's back.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace neolith::test {

class child_process;

class redis_server {
 public:
  enum class transport { unix_socket, tcp };
  /// Starts it and waits (bounded) until it answers PING; the test fails otherwise.
  explicit redis_server(transport t = transport::unix_socket);
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  /// `unix://PATH` or `redis://127.0.0.1:PORT`.
  std::string url() const;
  /// SIGKILL, and waits for the exit: the socket stops answering at once.
  void kill();
  /// Starts it again on the same socket or port (empty: no persistence) and waits for PING.
  void restart();
  bool running() const noexcept { return process_ != nullptr; }

  /// Runs one command through a fresh blocking connection; the reply flattened to strings
  /// (an array's elements, or the one value; errors as "ERR ..."). Fails the test if the
  /// server cannot be reached.
  std::vector<std::string> command(const std::vector<std::string>& args) const;
  /// Every key with its type and content ("key type content"), sorted: a snapshot to compare.
  std::vector<std::string> dump() const;

 private:
  void start();
  bool ping() const;

  transport transport_;
  std::string dir_;
  std::string socket_path_;
  int port_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace neolith::test
