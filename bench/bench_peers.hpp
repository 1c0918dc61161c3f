// The processes and peers of the request benchmark:
// - server children, forked before the benchmark makes any thread: the neolith daemon, a
//   plain Beast echo server and a minimal Beast responder, each on one thread of its own,
//   driven by a command pipe (heap figures, connection counts, quit);
// - the floor client: a plain Beast WebSocket client that writes one frame per async_write
//   and reads one frame per async_read, as a naive client does.
#ifndef NEOLITH_BENCH_PEERS_HPP
#define NEOLITH_BENCH_PEERS_HPP

#include "bench_util.hpp"

#include <neolith/daemon/daemon_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

enum class server_kind { daemon, echo, responder };

inline const char* name_of(server_kind k) {
  switch (k) {
    case server_kind::daemon: return "daemon";
    case server_kind::echo: return "echo";
    case server_kind::responder: return "responder";
  }
  return "?";
}

/// What the minimal responder answers: the daemon's own answer frames (captured from a real
/// daemon before the fork), cut just before their requestId, which comes last.
struct responder_frames {
  std::string health_prefix;   ///< `{"type":"health_response",...,"requestId":`
  std::string session_prefix;  ///< `{"type":"session_state",...,"requestId":`
};

/// Cuts a daemon answer before its trailing requestId value: `...,"requestId":` stays.
inline std::string cut_before_request_id(const std::string& answer) {
  const auto p = answer.rfind("\"requestId\":");
  if (p == std::string::npos) throw std::runtime_error("the daemon's answer has no trailing requestId: " + answer);
  return answer.substr(0, p + std::strlen("\"requestId\":"));
}

struct server_config {
  server_kind kind = server_kind::echo;
  std::size_t max_sessions = 100;  ///< daemon
  responder_frames frames;         ///< responder
};

// ----- Inside a server child -------------------------------------------------------------

namespace child {

struct state {
  asio::io_context& ioc;
  server_config cfg;
  std::size_t connections = 0;
  std::size_t parked = 0;
  std::unique_ptr<neolith::daemon_server> daemon;
};

inline asio::awaitable<void> echo_session(websocket::stream<tcp::socket> ws, state& st) {
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) break;
    ws.text(ws.got_text());
    auto [wec, wn] = co_await ws.async_write(buf.data(), asio::as_tuple(asio::use_awaitable));
    (void)wn;
    if (wec) break;
    buf.consume(buf.size());
  }
  --st.connections;
}

/// Parses each request (Boost.JSON), takes its type, requestId and sessionId, and answers
/// with the daemon's frame for that type and the request's requestId. A get_session whose
/// sessionId starts with "parked-" is held for ever (never answered): the benchmark's way of
/// keeping requests pending on a peer.
inline asio::awaitable<void> responder_session(websocket::stream<tcp::socket> ws, state& st) {
  beast::flat_buffer buf;
  json::parser parser;
  std::string answer;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) break;
    const auto data = buf.cdata();
    const std::string_view text(static_cast<const char*>(data.data()), data.size());
    parser.reset();
    boost::system::error_code pec;
    parser.write(text.data(), text.size(), pec);
    buf.consume(buf.size());
    if (pec) continue;
    const json::value v = parser.release();
    const json::object* o = v.if_object();
    if (!o) continue;
    const json::value* type = o->if_contains("type");
    const json::value* rid = o->if_contains("requestId");
    if (!type || !type->is_string() || !rid || !rid->is_string()) continue;
    const std::string_view t = type->get_string();
    if (t == "get_health") {
      answer = st.cfg.frames.health_prefix;
    } else if (t == "get_session") {
      const json::value* sid = o->if_contains("sessionId");
      if (sid && sid->is_string() && std::string_view(sid->get_string()).starts_with("parked-")) {
        ++st.parked;
        continue;
      }
      answer = st.cfg.frames.session_prefix;
    } else {
      continue;  // heartbeats and the rest: no answer needed by the benchmark
    }
    answer += json::serialize(rid->get_string());
    answer += '}';
    ws.text(true);
    auto [wec, wn] = co_await ws.async_write(asio::buffer(answer), asio::as_tuple(asio::use_awaitable));
    (void)wn;
    if (wec) break;
  }
  --st.connections;
}

inline asio::awaitable<void> plain_session(tcp::socket sock, state& st) {
  sock.set_option(tcp::no_delay(true));
  websocket::stream<tcp::socket> ws(std::move(sock));
  ws.read_message_max(neolith::default_max_message_bytes);
  ws.auto_fragment(false);
  auto [ec] = co_await ws.async_accept(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  ++st.connections;
  if (st.cfg.kind == server_kind::echo)
    co_await echo_session(std::move(ws), st);
  else
    co_await responder_session(std::move(ws), st);
}

inline asio::awaitable<void> accept_loop(tcp::acceptor& acc, state& st) {
  for (;;) {
    auto [ec, sock] = co_await acc.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(acc.get_executor(), plain_session(std::move(sock), st), asio::detached);
  }
}

inline void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      _exit(3);
    }
    off += static_cast<std::size_t>(n);
  }
}

inline std::string report(state& st) {
  malloc_trim(0);
  std::string r = "heap_bytes=" + std::to_string(heap().live_bytes.load()) +
                  " heap_blocks=" + std::to_string(heap().live_blocks.load());
  if (st.daemon) {
    const auto s = st.daemon->stats();
    r += " connections=" + std::to_string(s.connections) + " sessions=" + std::to_string(s.live_sessions);
  } else {
    r += " connections=" + std::to_string(st.connections) + " parked=" + std::to_string(st.parked);
  }
  return r + "\n";
}

/// Reads one-byte commands; answers each with one line. EOF (the benchmark ended): exit.
inline asio::awaitable<void> command_loop(asio::posix::stream_descriptor& cmd, int reply_fd, state& st) {
  char c = 0;
  for (;;) {
    auto [ec, n] = co_await cmd.async_read_some(asio::buffer(&c, 1), asio::as_tuple(asio::use_awaitable));
    if (ec || n == 0) _exit(0);
    if (c == 'r') write_all(reply_fd, report(st));
    else if (c == 'q') _exit(0);
  }
}

[[noreturn]] inline void run(server_config cfg, int cmd_fd, int reply_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  try {
    asio::io_context ioc(1);
    state st{ioc, std::move(cfg), 0, 0, nullptr};
    std::uint16_t port = 0;
    std::optional<tcp::acceptor> acc;
    if (st.cfg.kind == server_kind::daemon) {
      neolith::daemon_options o;
      o.host = "127.0.0.1";
      o.port = 0;
      o.node_id = "bench-daemon";
      o.max_sessions = st.cfg.max_sessions;
      o.threads = 1;
      st.daemon = std::make_unique<neolith::daemon_server>(ioc, o);
      auto ep = st.daemon->start();
      if (!ep) {
        write_all(reply_fd, "error=" + ep.error().what() + "\n");
        _exit(2);
      }
      port = ep.value().port();
    } else {
      acc.emplace(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      acc->listen(asio::socket_base::max_listen_connections);
      port = acc->local_endpoint().port();
      asio::co_spawn(ioc, accept_loop(*acc, st), asio::detached);
    }
    asio::posix::stream_descriptor cmd(ioc, cmd_fd);
    asio::co_spawn(ioc, command_loop(cmd, reply_fd, st), asio::detached);
    write_all(reply_fd, "port=" + std::to_string(port) + "\n");
    ioc.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench server (%s): %s\n", name_of(cfg.kind), e.what());
    _exit(2);
  }
  _exit(0);
}

}  // namespace child

// ----- The benchmark's handle on a server child ----------------------------------------------

class server_process {
 public:
  /// Forks a server child. Call only while the process has a single thread.
  explicit server_process(server_config cfg) : kind_(cfg.kind) {
    int cmd[2], rep[2];
    if (pipe(cmd) != 0 || pipe(rep) != 0) throw std::runtime_error("pipe failed");
    std::fflush(stdout);
    std::fflush(stderr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::close(cmd[1]);
      ::close(rep[0]);
      child::run(std::move(cfg), cmd[0], rep[1]);
    }
    ::close(cmd[0]);
    ::close(rep[1]);
    cmd_fd_ = cmd[1];
    reply_fd_ = rep[0];
    const auto line = read_line(std::chrono::seconds(30));
    const auto kv = parse(line);
    const auto it = kv.find("port");
    if (it == kv.end()) throw std::runtime_error(std::string(name_of(kind_)) + " server failed to start: " + line);
    port_ = static_cast<std::uint16_t>(std::stoul(it->second));
  }
  ~server_process() {
    if (pid_ <= 0) return;
    ::close(cmd_fd_);  // EOF: the child exits
    ::close(reply_fd_);
    for (int i = 0; i < 200; ++i) {  // up to 2 s
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      usleep(10'000);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  server_kind kind() const { return kind_; }

  /// Asks the child for its figures (after malloc_trim in the child): heap_bytes,
  /// heap_blocks, connections, and sessions (daemon) or parked (peers).
  std::map<std::string, std::string> report() {
    const char c = 'r';
    if (::write(cmd_fd_, &c, 1) != 1) throw std::runtime_error("the server child is gone");
    return parse(read_line(std::chrono::seconds(30)));
  }
  long report_value(const std::string& key) {
    const auto kv = report();
    const auto it = kv.find(key);
    return it == kv.end() ? -1 : std::stol(it->second);
  }

 private:
  std::string read_line(std::chrono::seconds limit) {
    const auto deadline = sclock::now() + limit;
    for (;;) {
      const auto nl = buffered_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - sclock::now()).count();
      if (left <= 0) throw std::runtime_error(std::string(name_of(kind_)) + " server: no answer");
      pollfd p{reply_fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(reply_fd_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error(std::string(name_of(kind_)) + " server exited");
      buffered_.append(buf, static_cast<std::size_t>(n));
    }
  }
  static std::map<std::string, std::string> parse(const std::string& line) {
    std::map<std::string, std::string> kv;
    std::istringstream in(line);
    std::string item;
    while (in >> item) {
      const auto eq = item.find('=');
      if (eq != std::string::npos) kv[item.substr(0, eq)] = item.substr(eq + 1);
    }
    return kv;
  }

  server_kind kind_;
  pid_t pid_ = -1;
  int cmd_fd_ = -1;
  int reply_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string buffered_;
};

// ----- The floor client ----------------------------------------------------------------------

using floor_ws = websocket::stream<beast::tcp_stream>;

/// Connects a plain Beast client (TCP_NODELAY, as daemon_node) to 127.0.0.1:port.
inline asio::awaitable<void> floor_connect(floor_ws& ws, std::uint16_t port) {
  auto& s = beast::get_lowest_layer(ws);
  co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  s.socket().set_option(tcp::no_delay(true));
  s.expires_never();
  ws.read_message_max(neolith::default_max_message_bytes);
  ws.auto_fragment(false);
  co_await ws.async_handshake("127.0.0.1:" + std::to_string(port), "/", asio::use_awaitable);
}

/// The request frame with requestId `prefix<n>"}` (the same bytes daemon_node writes).
inline void make_frame(std::string& out, const std::string& prefix, std::uint64_t n) {
  out.assign(prefix);
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n, 36);
  out.append(buf, r.ptr);
  out += "\"}";
}

/// One request in flight: write, read, time it.
inline asio::awaitable<void> floor_rtt(floor_ws& ws, const std::string& prefix, std::size_t warmup, std::size_t n,
                                       std::vector<std::int64_t>& out, std::uint64_t& allocations) {
  std::string frame;
  frame.reserve(prefix.size() + 32);
  beast::flat_buffer buf;
  ws.text(true);
  std::uint64_t a0 = 0;
  for (std::size_t i = 0; i < warmup + n; ++i) {
    if (i == warmup) a0 = heap().allocations.load(std::memory_order_relaxed);
    make_frame(frame, prefix, i);
    const auto t0 = sclock::now();
    co_await ws.async_write(asio::buffer(frame), asio::use_awaitable);
    co_await ws.async_read(buf, asio::use_awaitable);
    const auto t1 = sclock::now();
    buf.consume(buf.size());
    if (i >= warmup) out.push_back(ns_between(t0, t1));
  }
  allocations = heap().allocations.load(std::memory_order_relaxed) - a0;
}

struct floor_pipeline {
  explicit floor_pipeline(asio::any_io_executor ex) : signal(ex) {}
  std::uint64_t sent = 0, received = 0;
  asio::steady_timer signal;
};

inline asio::awaitable<void> floor_writer(floor_ws& ws, const std::string& prefix, std::uint64_t total,
                                          std::uint64_t in_flight, floor_pipeline& p) {
  std::string frame;
  frame.reserve(prefix.size() + 32);
  ws.text(true);
  while (p.sent < total) {
    if (p.sent - p.received >= in_flight) {
      p.signal.expires_at(sclock::time_point::max());
      co_await p.signal.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    make_frame(frame, prefix, p.sent);
    co_await ws.async_write(asio::buffer(frame), asio::use_awaitable);
    ++p.sent;
  }
}

inline asio::awaitable<void> floor_reader(floor_ws& ws, std::uint64_t total, floor_pipeline& p) {
  beast::flat_buffer buf;
  while (p.received < total) {
    co_await ws.async_read(buf, asio::use_awaitable);
    buf.consume(buf.size());
    ++p.received;
    p.signal.cancel();
  }
}

}  // namespace bench

#endif  // NEOLITH_BENCH_PEERS_HPP
