#include "support/redis_server.hpp"

#include "support/daemon_process.hpp"
#include "support/wait.hpp"

#include <boost/test/unit_test.hpp>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace neolith::test {

namespace {

std::string redis_server_exe() {
  const char* env = std::getenv("REDIS_SERVER");
  return env != nullptr ? env : "/usr/bin/redis-server";
}

// A port of 127.0.0.1 that was free a moment ago (the kernel's pick, then released).
int pick_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_TEST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  BOOST_TEST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  BOOST_TEST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct context_deleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
struct reply_deleter {
  void operator()(void* r) const noexcept { freeReplyObject(r); }
};

void flatten(const redisReply& r, std::vector<std::string>& out) {
  switch (r.type) {
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < r.elements; ++i) flatten(*r.element[i], out);
      break;
    case REDIS_REPLY_INTEGER: out.push_back(std::to_string(r.integer)); break;
    case REDIS_REPLY_NIL: out.push_back("(nil)"); break;
    default: out.emplace_back(r.str, r.len); break;
  }
}

}  // namespace

redis_server::redis_server(transport t) : transport_(t) {
  char pattern[] = "/tmp/neolith-redis.XXXXXX";
  BOOST_TEST_REQUIRE(::mkdtemp(pattern) != nullptr);
  dir_ = pattern;
  socket_path_ = dir_ + "/redis.sock";
  start();
}

redis_server::~redis_server() {
  process_.reset();  // SIGKILL and reap
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string redis_server::url() const {
  if (transport_ == transport::unix_socket) return "unix://" + socket_path_;
  return "redis://127.0.0.1:" + std::to_string(port_);
}

void redis_server::start() {
  // A picked TCP port may be taken between the pick and the bind: a few tries with new picks.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<std::string> args{"--save", "", "--appendonly", "no", "--dir", dir_, "--loglevel", "warning",
                                  "--daemonize", "no"};
    if (transport_ == transport::unix_socket) {
      args.insert(args.end(), {"--port", "0", "--unixsocket", socket_path_, "--unixsocketperm", "700"});
    } else {
      if (port_ == 0 || attempt > 0) port_ = pick_port();
      args.insert(args.end(), {"--port", std::to_string(port_), "--bind", "127.0.0.1"});
    }
    process_ = std::make_unique<child_process>(redis_server_exe(), args);
    if (wait_until([&] { return ping() || process_->wait_exit(std::chrono::milliseconds(0)).has_value(); },
                   std::chrono::seconds(10)) &&
        ping())
      return;
    BOOST_TEST_MESSAGE("redis-server did not start: " << process_->err() << process_->out());
    process_.reset();
    if (transport_ == transport::unix_socket) break;
  }
  BOOST_FAIL("redis-server did not answer PING");
}

void redis_server::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  BOOST_TEST(process_->wait_exit(std::chrono::seconds(10)).has_value());
  process_.reset();
}

void redis_server::restart() {
  kill();
  start();
}

bool redis_server::ping() const {
  const timeval tv{0, 200000};
  std::unique_ptr<redisContext, context_deleter> c(
      transport_ == transport::unix_socket ? redisConnectUnixWithTimeout(socket_path_.c_str(), tv)
                                           : redisConnectWithTimeout("127.0.0.1", port_, tv));
  if (!c || c->err) return false;
  std::unique_ptr<void, reply_deleter> r(redisCommand(c.get(), "PING"));
  if (!r) return false;
  const auto* reply = static_cast<redisReply*>(r.get());
  return reply->type == REDIS_REPLY_STATUS && std::string(reply->str, reply->len) == "PONG";
}

std::vector<std::string> redis_server::command(const std::vector<std::string>& args) const {
  const timeval tv{5, 0};
  std::unique_ptr<redisContext, context_deleter> c(
      transport_ == transport::unix_socket ? redisConnectUnixWithTimeout(socket_path_.c_str(), tv)
                                           : redisConnectWithTimeout("127.0.0.1", port_, tv));
  BOOST_TEST_REQUIRE((c && !c->err), "cannot connect to redis-server at " << url());
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  std::unique_ptr<void, reply_deleter> r(
      redisCommandArgv(c.get(), static_cast<int>(args.size()), argv.data(), lens.data()));
  BOOST_TEST_REQUIRE(r != nullptr, "no reply from redis-server at " << url());
  std::vector<std::string> out;
  flatten(*static_cast<redisReply*>(r.get()), out);
  return out;
}

std::vector<std::string> redis_server::dump() const {
  std::vector<std::string> out;
  for (const auto& key : command({"KEYS", "*"})) {
    const auto type = command({"TYPE", key}).at(0);
    std::vector<std::string> content;
    if (type == "string") content = command({"GET", key});
    if (type == "hash") content = command({"HGETALL", key});
    if (type == "set") content = command({"SMEMBERS", key});
    std::sort(content.begin(), content.end());
    std::string line = key + " " + type;
    for (const auto& c : content) line += " " + c;
    out.push_back(std::move(line));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace neolith::test
