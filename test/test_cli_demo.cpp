// `neolith demo`: runs the real executable (NEOLITH_EXE) as a child process with a bounded wait
// and checks what it shows: the cluster, sessions on three nodes, the outage with its
// reconnection events and queued requests, the restore on another node, the latency summary;
// and its failures: bad usage, the time limit, and steps that fail for want of resources.
#define BOOST_TEST_MODULE cli_demo
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_process.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using namespace neolith::test;
using namespace std::chrono_literals;

namespace {

// Sanitizer runtimes need descriptors of their own (UBSan checks a vptr through a pipe): with
// the descriptor limit exhausted on purpose, they report false errors. The descriptor test
// runs in the other builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

struct outcome {
  std::optional<int> exit_code;  ///< nullopt: still running at the deadline (then killed)
  std::string out;
  std::string err;
  std::chrono::milliseconds took{0};
};

outcome run_exe(const std::string& exe, const std::vector<std::string>& args, std::chrono::milliseconds limit) {
  const auto t0 = std::chrono::steady_clock::now();
  child_process p(exe, args);
  outcome o;
  o.exit_code = p.wait_exit(limit);
  o.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  o.out = p.out();
  o.err = p.err();
  return o;  // a child still running is killed and reaped by ~child_process
}

outcome run_demo(const std::vector<std::string>& args, std::chrono::milliseconds limit = 30s) {
  std::vector<std::string> all{"demo"};
  all.insert(all.end(), args.begin(), args.end());
  return run_exe(neolith_exe(), all, limit);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

/// The index of the first line at or after `from` containing every one of `parts`.
std::optional<std::size_t> find_line(const std::vector<std::string>& lines, std::initializer_list<std::string_view> parts,
                                     std::size_t from = 0) {
  for (std::size_t i = from; i < lines.size(); ++i) {
    const bool all = std::all_of(parts.begin(), parts.end(),
                                 [&](std::string_view p) { return lines[i].find(p) != std::string::npos; });
    if (all) return i;
  }
  return std::nullopt;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// The whitespace-separated fields of a line.
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> v;
  std::istringstream in(line);
  for (std::string f; in >> f;) v.push_back(f);
  return v;
}

/// Checks the latency table row of `op`: calls >= min_calls, 0 <= p50 <= p99 <= max.
void check_latency_row(const std::vector<std::string>& lines, std::size_t table_at, const std::string& op,
                       std::size_t min_calls) {
  BOOST_TEST_CONTEXT("latency row of " << op) {
    std::optional<std::size_t> row;
    for (std::size_t i = table_at; i < lines.size(); ++i) {
      const auto f = fields(lines[i]);
      if (!f.empty() && f[0] == op) {
        row = i;
        break;
      }
    }
    BOOST_TEST_REQUIRE(row.has_value());
    const auto f = fields(lines[*row]);
    BOOST_TEST_REQUIRE(f.size() == 5u, "row: " << lines[*row]);
    const auto calls = std::stoul(f[1]);
    const double p50 = std::stod(f[2]);
    const double p99 = std::stod(f[3]);
    const double max = std::stod(f[4]);
    BOOST_TEST(calls >= min_calls);
    BOOST_TEST(p50 > 0.0);
    BOOST_TEST(p50 <= p99);
    BOOST_TEST(p99 <= max);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_demo_walks_through_every_step_and_exits_0) {
  const auto r = run_demo({});
  BOOST_TEST_REQUIRE(r.exit_code.has_value(), "the demo did not finish within 30 s; stdout so far:\n" << r.out);
  BOOST_TEST_REQUIRE(*r.exit_code == 0, "exit " << *r.exit_code << "\nstderr: " << r.err << "\nstdout:\n" << r.out);
  BOOST_TEST(r.err.empty(), "stderr: " << r.err);
  BOOST_TEST_MESSAGE("demo took " << r.took.count() << " ms");
  const auto lines = lines_of(r.out);

  // The sections, in order.
  std::size_t at = 0;
  for (const char* title : {"1. Cluster", "2. Spawn sessions", "3. List the sessions", "4. Health", "5. Outage",
                            "6. Restore a session on another node", "7. Latency burst", "8. Teardown",
                            "Latency summary"}) {
    const auto i = find_line(lines, {"== ", title}, at);
    BOOST_TEST_REQUIRE(i.has_value(), "no section '" << title << "' after line " << at << " in:\n" << r.out);
    at = *i;
  }

  // Three daemons, three nodes connected.
  for (const char* node : {"node-a", "node-b", "node-c"}) {
    BOOST_TEST(find_line(lines, {node, "ws://127.0.0.1:"}).has_value(), node);
    BOOST_TEST(find_line(lines, {"] ", node, " connected"}).has_value(), node << " connected");
  }
  // Sessions spawned on all three nodes, listed by them.
  BOOST_TEST(contains(r.out, "spawned 6 sessions on 3 nodes (node-a: 2, node-b: 2, node-c: 2)"), r.out);
  const auto list_at = find_line(lines, {"== 3. List"});
  for (const char* node : {"node-a", "node-b", "node-c"})
    BOOST_TEST(find_line(lines, {node, "running", "t-1"}, *list_at).has_value(), node << " lists its sessions");

  // The outage: disconnected with a reason, reconnection attempts with the doubling backoff,
  // requests queued meanwhile, the restart, connected again, the queued requests answered.
  const auto outage = *find_line(lines, {"== 5. Outage"});
  const auto lost = find_line(lines, {"node-b", "disconnected", "("}, outage);
  BOOST_TEST_REQUIRE(lost.has_value(), r.out);
  const auto a1 = find_line(lines, {"node-b", "reconnecting", "attempt 1 in 100 ms"}, *lost);
  const auto a2 = find_line(lines, {"node-b", "reconnecting", "attempt 2 in 200 ms"}, *lost);
  const auto a3 = find_line(lines, {"node-b", "reconnecting", "attempt 3 in 400 ms"}, *lost);
  BOOST_TEST_REQUIRE((a1 && a2 && a3), "no reconnection attempts 1-3 in:\n" << r.out);
  BOOST_TEST((*a1 < *a2 && *a2 < *a3));
  BOOST_TEST(find_line(lines, {"node-b", "connecting", "attempt 1"}, *lost).has_value());
  BOOST_TEST(find_line(lines, {"get_health", "offline"}, outage).has_value());
  for (const char* op : {"spawn_session", "get_sessions", "get_node_info"}) {
    const auto queued = find_line(lines, {"queued", op}, outage);
    BOOST_TEST_REQUIRE(queued.has_value(), op);
    const auto restart = find_line(lines, {"restarting the daemon of node-b on port"}, *queued);
    BOOST_TEST_REQUIRE(restart.has_value(), op);
    const auto back = find_line(lines, {"node-b", " connected"}, *restart);
    BOOST_TEST_REQUIRE(back.has_value(), "node-b never connected again after the restart:\n" << r.out);
    const auto completed = find_line(lines, {"completed", op, "after"}, *restart);
    BOOST_TEST(completed.has_value(), op << " queued but never completed:\n" << r.out);
  }
  BOOST_TEST(find_line(lines, {"3 queued requests answered"}, outage).has_value());

  // The restore on another node.
  const auto restore = *find_line(lines, {"== 6. Restore"});
  BOOST_TEST(find_line(lines, {"restore_session", "on node-c", "success"}, restore).has_value());
  BOOST_TEST(find_line(lines, {"restored on node-c: same id, same task, memory kept"}, restore).has_value());
  BOOST_TEST(find_line(lines, {"terminate_session on node-a", "terminated"}, restore).has_value());

  // The latency summary: p50/p99 per operation, a few hundred reads.
  const auto summary = *find_line(lines, {"== Latency summary"});
  const auto header = find_line(lines, {"operation", "calls", "p50 ms", "p99 ms", "max ms"}, summary);
  BOOST_TEST_REQUIRE(header.has_value(), r.out);
  // A few hundred reads, unless the burst's time budget ran out (a slow, loaded machine or a
  // sanitizer build): then still enough for percentiles.
  const auto burst = find_line(lines, {"get_health +", "get_session calls, round-robin over 3 nodes"});
  BOOST_TEST_REQUIRE(burst.has_value(), r.out);
  const std::size_t rounds = std::stoul(fields(lines[*burst]).at(0));
  const bool cut_short = find_line(lines, {"the burst's time budget", "ran out"}).has_value();
  BOOST_TEST((cut_short ? rounds >= 20u : rounds == 300u), "rounds: " << rounds);
  check_latency_row(lines, *header, "get_health", rounds);
  check_latency_row(lines, *header, "get_session", rounds);
  for (const char* op : {"connect", "get_node_info", "spawn_session", "get_sessions", "restore_session",
                         "terminate_session"})
    check_latency_row(lines, *header, op, 1);
  BOOST_TEST(find_line(lines, {"demo completed in", "3 daemons", "7 sessions spawned", "1 restored on another node"},
                       summary)
                 .has_value(),
             r.out);
  BOOST_TEST((r.took < 30s));
}

BOOST_AUTO_TEST_CASE(quiet_prints_only_the_summary) {
  const auto r = run_demo({"--quiet", "--calls", "40"});
  BOOST_TEST_REQUIRE(r.exit_code.has_value(), "the demo did not finish within 30 s");
  BOOST_TEST_REQUIRE(*r.exit_code == 0, "stderr: " << r.err);
  BOOST_TEST(r.err.empty(), "stderr: " << r.err);
  const auto lines = lines_of(r.out);
  BOOST_TEST_REQUIRE(!lines.empty());
  BOOST_TEST(lines.front().starts_with("== Latency summary"), r.out);
  BOOST_TEST(!contains(r.out, "[+"), "event lines in quiet mode:\n" << r.out);
  BOOST_TEST(!contains(r.out, "== 1. Cluster"), r.out);
  const auto header = find_line(lines, {"operation", "p50 ms", "p99 ms"});
  BOOST_TEST_REQUIRE(header.has_value(), r.out);
  check_latency_row(lines, *header, "get_health", 20);
  BOOST_TEST(find_line(lines, {"demo completed in"}).has_value());
}

BOOST_AUTO_TEST_CASE(help_and_bad_usage) {
  const auto help = run_demo({"--help"}, 10s);
  BOOST_TEST_REQUIRE(help.exit_code.has_value());
  BOOST_TEST(*help.exit_code == 0);
  BOOST_TEST(contains(help.out, "usage: neolith demo"), help.out);
  for (const char* opt : {"--quiet", "--calls", "--time-limit-ms"}) BOOST_TEST(contains(help.out, opt), opt);
  BOOST_TEST(help.err.empty());

  const std::vector<std::vector<std::string>> bad{
      {"--bogus"}, {"--calls"}, {"--calls", "0"}, {"--calls=abc"}, {"--calls", "100001"},
      {"--quiet=1"}, {"--time-limit-ms", "-5"}, {"extra"}};
  for (const auto& args : bad) {
    BOOST_TEST_CONTEXT("neolith demo " << args.front() << (args.size() > 1 ? " " + args[1] : "")) {
      const auto r = run_demo(args, 10s);
      BOOST_TEST_REQUIRE(r.exit_code.has_value());
      BOOST_TEST(*r.exit_code == 2);
      BOOST_TEST(r.out.empty(), "stdout: " << r.out);
      const auto err = lines_of(r.err);
      BOOST_TEST_REQUIRE(err.size() == 1u, "stderr: " << r.err);
      BOOST_TEST(err[0].starts_with("neolith demo: "), err[0]);
    }
  }
}

BOOST_AUTO_TEST_CASE(past_its_time_limit_the_demo_stops_with_a_one_line_error) {
  const auto r = run_demo({"--time-limit-ms", "300"}, 10s);
  BOOST_TEST_REQUIRE(r.exit_code.has_value(), "the demo did not stop at its time limit");
  BOOST_TEST(*r.exit_code == 1);
  BOOST_TEST((r.took < 5s));
  const auto err = lines_of(r.err);
  BOOST_TEST_REQUIRE(err.size() == 1u, "stderr: " << r.err);
  BOOST_TEST(err[0].starts_with("neolith demo: error: "), err[0]);
  BOOST_TEST(contains(err[0], "did not finish within 300 ms"), err[0]);
  BOOST_TEST(!contains(r.out, "Latency summary"));
}

// Too few file descriptors: a daemon cannot bind, a node cannot connect, an io_context cannot
// be made... whichever step comes first fails, with one line on stderr and exit 1, quickly.
BOOST_AUTO_TEST_CASE(a_failing_step_ends_the_demo_with_a_one_line_error,
                     *boost::unit_test::enable_if<!sanitized>()) {
  for (int fds : {5, 9, 12, 15}) {
    BOOST_TEST_CONTEXT("ulimit -n " << fds) {
      const std::string script = "ulimit -n " + std::to_string(fds) + " && exec \"$0\" demo";
      const auto r = run_exe("/bin/sh", {"-c", script, neolith_exe()}, 30s);
      BOOST_TEST_REQUIRE(r.exit_code.has_value(), "the demo hung with " << fds << " descriptors");
      BOOST_TEST(*r.exit_code == 1, "stdout:\n" << r.out << "\nstderr: " << r.err);
      const auto err = lines_of(r.err);
      BOOST_TEST_REQUIRE(err.size() == 1u, "stderr: " << r.err);
      BOOST_TEST(err[0].starts_with("neolith demo: error: "), err[0]);
      BOOST_TEST(!contains(r.out, "Latency summary"));
    }
  }
}
