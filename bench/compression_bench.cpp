// compression_bench: what permessage-deflate costs and saves on neolith's request path, with
// the uncompressed connection measured in the same run as its floor.
//
//   compression_bench [--quick] [--level 1..9]
//
// A daemon (daemon_server, one io thread) and two daemon_nodes in this process: one connection
// negotiated without the extension, one with it (threshold 0: every frame compressed, so its
// counters account for every byte). For tasks whose descriptions are 512 B to 256 KiB of
// English-like text, it measures in alternating rounds:
//   - get_session: a small request, the description in the answer (the daemon compresses; the
//     same session each time, as a poller reads it: later answers refer back to earlier ones
//     while the text fits the 32 KiB window);
//   - spawn_session: the description both ways (the node compresses the request, the daemon
//     the answer), a different text of the same vocabulary each time;
// and prints the round trips' p50 and p99 on each connection, their ratio, and the bytes of
// the messages before and after compression. No timing is asserted: the exit status says only
// whether every request got its answer.
#include "bench_util.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/daemon/daemon_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace neolith;
using bench::sclock;

/// Text of about `n` bytes drawn from a small vocabulary: compresses about as prose does.
std::string prose(std::size_t n, unsigned seed) {
  static const char* const words[] = {"the",    "build",   "fails",   "when",   "parser",  "reads",  "an",
                                      "empty",  "request", "line",    "so",     "we",      "add",    "a",
                                      "test",   "for",     "module",  "and",    "check",   "its",    "error",
                                      "path",   "before",  "merging", "agent",  "session", "review", "logs",
                                      "output", "of",      "step",    "retry",  "timeout", "node",   "daemon"};
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n + 16);
  while (s.size() < n) {
    s += words[rng() % std::size(words)];
    s += (rng() % 9 == 0) ? ". " : " ";
  }
  s.resize(n);
  return s;
}

session_spawn_request spawn_request(std::string description, int i) {
  session_spawn_request r;
  r.orchestrator_id = "bench";
  r.type = session_type::claude_code;
  r.task.id = "bench-" + std::to_string(i);
  r.task.type = task_type::code;
  r.task.description = std::move(description);
  r.task.priority = task_priority::medium;
  r.task.status = task_status::pending;
  return r;
}

/// Runs `a` on `ioc` to completion (bounded); throws when it did not finish.
void run(asio::io_context& ioc, asio::awaitable<void> a, std::chrono::seconds limit) {
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e) {
    done = true;
    failure = e;
  });
  ioc.restart();
  const auto deadline = sclock::now() + limit;
  while (!done && sclock::now() < deadline) ioc.run_one_until(deadline);
  if (failure) std::rethrow_exception(failure);
  if (!done) throw std::runtime_error("a phase did not finish in time");
}

struct cell {
  std::vector<std::int64_t> plain_ns, deflate_ns;
  std::uint64_t in_bytes = 0, out_bytes = 0, requests = 0;
};

enum class op { get_session, spawn_session };

/// `n` round trips of `what` on `node`, appending their times to `ns`.
asio::awaitable<void> round_trips(daemon_node& node, op what, const std::string& sid, const std::string& description,
                                  std::size_t n, std::vector<std::int64_t>& ns, int& seq, bool& failed) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto t0 = sclock::now();
    bool ok;
    if (what == op::get_session) {
      auto r = co_await node.get_session(sid);
      ok = r.has_value() && r.value().has_value();
    } else {
      // A different text each time (same vocabulary), as distinct tasks are.
      ++seq;
      auto r = co_await node.spawn_session(spawn_request(prose(description.size(), static_cast<unsigned>(seq)), seq));
      ok = r.has_value();
    }
    ns.push_back(bench::ns_between(t0, sclock::now()));
    if (!ok) failed = true;
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int level = 1;  // the default of both sides
  const char* usage = "usage: compression_bench [--quick] [--level 1..9]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--level" && i + 1 < argc) {
      const std::string v = argv[++i];
      if (v.size() != 1 || v[0] < '1' || v[0] > '9') {
        std::fprintf(stderr, "compression_bench: --level takes 1 to 9, not '%s'\n%s", v.c_str(), usage);
        return 2;
      }
      level = v[0] - '0';
    } else if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "compression_bench: unknown argument '%s'\n%s", a.c_str(), usage);
      return 2;
    }
  }
  const std::vector<std::size_t> sizes{512, 4096, 32768, 262144};
  const int rounds = quick ? 2 : 6;
  // Per round and connection: fewer samples for the larger texts (each cell a second or so).
  const auto samples_for = [&](std::size_t size) -> std::size_t {
    const std::size_t full = size <= 4096 ? 500 : size <= 32768 ? 150 : 25;
    return quick ? std::max<std::size_t>(full / 25, 2) : full;
  };

  try {
    daemon_options dopts;
    dopts.host = "127.0.0.1";
    dopts.port = 0;
    dopts.node_id = "bench-daemon";
    dopts.max_sessions = 1'000'000;
    dopts.max_message_bytes = 4u << 20;
    dopts.heartbeat_interval = std::chrono::hours(1);
    dopts.permessage_deflate = true;
    dopts.deflate_threshold = 0;
    dopts.deflate_level = level;
    asio::io_context daemon_ioc(1);
    daemon_server daemon(daemon_ioc, dopts);
    auto ep = daemon.start();
    if (!ep) throw std::runtime_error("the daemon did not start: " + ep.error().what());
    std::thread daemon_thread([&] { daemon_ioc.run(); });

    asio::io_context ioc(1);
    node_options plain_opts;
    plain_opts.max_message_bytes = dopts.max_message_bytes;
    plain_opts.heartbeat_interval = std::chrono::hours(1);
    plain_opts.heartbeat_timeout = std::chrono::hours(2);
    node_options deflate_opts = plain_opts;
    deflate_opts.permessage_deflate = true;
    deflate_opts.deflate_threshold = 0;
    deflate_opts.deflate_level = level;
    const auto endpoint = node_endpoint::ws("127.0.0.1", ep.value().port());
    daemon_node plain(ioc.get_executor(), "plain", endpoint, std::nullopt, plain_opts);
    daemon_node deflate(ioc.get_executor(), "deflate", endpoint, std::nullopt, deflate_opts);
    run(ioc, [&]() -> asio::awaitable<void> {
      auto a = co_await plain.connect();
      auto b = co_await deflate.connect();
      if (!a || !b) throw std::runtime_error("connect failed");
    }(), std::chrono::seconds(10));

    std::printf("compression_bench (%s mode): %d CPUs, %s; daemon and nodes in one process, %d rounds, zlib level %d\n",
                quick ? "quick" : "full", bench::online_cpus(), bench::cpu_model().c_str(), rounds, level);
    std::printf("%-13s %8s | %9s %9s | %9s %9s | %6s | %10s %10s %6s\n", "request", "text", "plain p50", "p99",
                "defl p50", "p99", "p50 x", "bytes/RT", "deflated", "ratio");
    bool failed = false;
    int seq = 0;
    for (op what : {op::get_session, op::spawn_session}) {
      for (std::size_t size : sizes) {
        const std::string description = prose(size, static_cast<unsigned>(size));
        // The session get_session reads: spawned once, on the plain connection.
        std::string sid;
        run(ioc, [&]() -> asio::awaitable<void> {
          auto s = co_await plain.spawn_session(spawn_request(description, ++seq));
          if (!s) throw std::runtime_error("spawn failed: " + s.error().what());
          sid = s.value().id;
        }(), std::chrono::seconds(30));
        cell c;
        const std::size_t n = samples_for(size);
        // Warm-up, then alternating rounds (the same machine state for both connections).
        std::vector<std::int64_t> scratch;
        run(ioc, round_trips(plain, what, sid, description, 3, scratch, seq, failed), std::chrono::seconds(60));
        run(ioc, round_trips(deflate, what, sid, description, 3, scratch, seq, failed), std::chrono::seconds(60));
        for (int r = 0; r < rounds; ++r) {
          run(ioc, round_trips(plain, what, sid, description, n, c.plain_ns, seq, failed), std::chrono::seconds(120));
          const auto ns0 = deflate.statistics();
          const auto ds0 = daemon.stats();
          run(ioc, round_trips(deflate, what, sid, description, n, c.deflate_ns, seq, failed),
              std::chrono::seconds(120));
          const auto ns1 = deflate.statistics();
          const auto ds1 = daemon.stats();
          c.in_bytes += (ns1.deflate_input_bytes - ns0.deflate_input_bytes) + (ds1.deflate_input_bytes - ds0.deflate_input_bytes);
          c.out_bytes += (ns1.deflate_output_bytes - ns0.deflate_output_bytes) + (ds1.deflate_output_bytes - ds0.deflate_output_bytes);
          c.requests += n;
        }
        const auto p = bench::summarize(c.plain_ns);
        const auto d = bench::summarize(c.deflate_ns);
        const double per_in = static_cast<double>(c.in_bytes) / static_cast<double>(c.requests);
        const double per_out = static_cast<double>(c.out_bytes) / static_cast<double>(c.requests);
        std::printf("%-13s %7zuB | %7.1fus %7.1fus | %7.1fus %7.1fus | %6.2f | %10.0f %10.0f %5.1fx\n",
                    what == op::get_session ? "get_session" : "spawn_session", size, p.p50_us, p.p99_us, d.p50_us,
                    d.p99_us, d.p50_us / p.p50_us, per_in, per_out, per_out > 0 ? per_in / per_out : 0.0);
      }
    }
    std::puts("bytes/RT: the messages of one round trip (request and answer) as JSON text; deflated: as sent.");
    std::puts("p50 x: p50 with compression / p50 without (the floor), same run, alternating rounds.");

    run(ioc, [&]() -> asio::awaitable<void> {
      (void)co_await plain.disconnect();
      (void)co_await deflate.disconnect();
    }(), std::chrono::seconds(10));
    daemon.on_stopped([&] { daemon_ioc.stop(); });
    daemon.stop();
    daemon_thread.join();
    if (failed) std::fputs("compression_bench: a request failed\n", stderr);
    return failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compression_bench: %s\n", e.what());
    return 1;
  }
}
