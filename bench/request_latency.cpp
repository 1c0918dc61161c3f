// request_latency: round-trip time, throughput, scaling and memory of neolith's request path,
// measured side by side with two floors in the same run, on the same machine:
//   - the echo floor: a plain Beast WebSocket client against a plain Beast echo server;
//   - the responder floor: the same client against a minimal Beast responder that parses
//     each request (Boost.JSON) and answers with the daemon's own answer frame.
// neolith is measured as a user runs it: `daemon_node` (one io_context thread) against the
// daemon (`daemon_server`, one io_context thread) in a child process. The floor servers are
// child processes too, so every figure crosses the same process boundary.
//
//   request_latency [--quick] [--json FILE] [--only SECTIONS]
//
// See --help and docs/performance.md. The program prints figures and checks nothing about
// time: its exit status says only whether every request of the run got its answer.
#include "bench_peers.hpp"
#include "bench_util.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

#include <execinfo.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>
#include <set>

// ----- The heap hook: every allocation of the process is counted ------------------------------

namespace {

// --trace-allocations: the call stacks of the allocations of one request, recorded without
// allocating (addresses; symbolize with addr2line).
struct alloc_trace {
  static constexpr int max_allocs = 64, depth = 24;
  std::atomic<bool> on{false};
  int count = 0;
  int frames[max_allocs] = {};
  void* stacks[max_allocs][depth] = {};
  std::size_t sizes[max_allocs] = {};
};
alloc_trace g_trace;

void trace_alloc(std::size_t n) {
  if (!g_trace.on.load(std::memory_order_relaxed)) return;
  g_trace.on.store(false, std::memory_order_relaxed);  // backtrace() itself must not recurse
  if (g_trace.count < alloc_trace::max_allocs) {
    const int i = g_trace.count++;
    g_trace.sizes[i] = n;
    g_trace.frames[i] = backtrace(g_trace.stacks[i], alloc_trace::depth);
  }
  g_trace.on.store(true, std::memory_order_relaxed);
}

void count_alloc(void* p, std::size_t n) noexcept {
  if (!p) return;
  trace_alloc(n);
  auto& h = bench::heap();
  h.allocations.fetch_add(1, std::memory_order_relaxed);
  h.live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  h.live_blocks.fetch_add(1, std::memory_order_relaxed);
}

void count_free(void* p) noexcept {
  if (!p) return;
  auto& h = bench::heap();
  h.live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  h.live_blocks.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace

// The hook sits under every allocator of the process: the C allocation functions are
// replaced (as the glibc manual allows: "Replacing malloc") by counting wrappers over glibc's
// own `__libc_*` entry points. operator new, Asio's recycling allocator (which calls
// aligned_alloc directly, bypassing operator new), Boost.JSON, OpenSSL: all are counted.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  void* p = __libc_malloc(n);
  count_alloc(p, n);
  return p;
}
void* calloc(std::size_t k, std::size_t n) {
  void* p = __libc_calloc(k, n);
  count_alloc(p, k * n);
  return p;
}
void* realloc(void* old, std::size_t n) {
  if (!old) return malloc(n);
  if (n == 0) {
    free(old);
    return nullptr;
  }
  const auto old_size = static_cast<std::int64_t>(malloc_usable_size(old));
  void* p = __libc_realloc(old, n);
  if (!p) return nullptr;  // the old block stays allocated and counted
  auto& h = bench::heap();
  h.allocations.fetch_add(1, std::memory_order_relaxed);
  h.live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)) - old_size, std::memory_order_relaxed);
  return p;
}
void* memalign(std::size_t align, std::size_t n) {
  void* p = __libc_memalign(align, n);
  count_alloc(p, n);
  return p;
}
void* aligned_alloc(std::size_t align, std::size_t n) { return memalign(align, n); }
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(std::size_t n) {
  void* p = __libc_valloc(n);
  count_alloc(p, n);
  return p;
}
void* pvalloc(std::size_t n) {
  void* p = __libc_pvalloc(n);
  count_alloc(p, n);
  return p;
}
void free(void* p) {
  count_free(p);
  __libc_free(p);
}
}  // extern "C"

namespace {

using namespace bench;
using namespace std::chrono_literals;
namespace msg = neolith::msg;

// ----- Settings --------------------------------------------------------------------------------

enum class request_kind { get_health, get_session };
const char* name_of(request_kind k) { return k == request_kind::get_health ? "get_health" : "get_session"; }

struct settings {
  bool quick = false;
  std::string json_path = "request_latency.json";
  std::set<std::string> only;  // empty: every section
  bool floors = true;           // --no-floors: neolith only (for profiling)
  bool cross_core = true;       // --same-core-only: skip the cross_core placement
  std::vector<request_kind> kinds{request_kind::get_health, request_kind::get_session};  // --requests

  std::size_t warmup = 2'000;
  std::size_t samples = 20'000;
  std::uint64_t throughput_requests = 200'000;
  std::vector<std::uint64_t> in_flight{16, 128, 1024};
  std::vector<std::size_t> pending{1, 100, 10'000};
  std::size_t nodes = 1'000;
  std::size_t sessions = 10'000;

  bool section(const char* s) const { return only.empty() || only.contains(s); }
};

const char* usage_text =
    "usage: request_latency [--quick] [--json FILE] [--only SECTIONS]\n"
    "\n"
    "Measures neolith's request path (daemon_node against the daemon, each on one thread, the\n"
    "daemon in a child process) beside two floors measured in the same run: a plain Beast\n"
    "client against a plain Beast echo server, and against a minimal Beast responder that\n"
    "parses each request and answers with the daemon's own frame.\n"
    "\n"
    "  --quick          everything, small (well under 60 s): proves the benchmark works\n"
    "  --json FILE      where the JSON document goes (default: request_latency.json)\n"
    "  --only SECTIONS  comma-separated subset of: latency, throughput, pending, nodes,\n"
    "                   sessions (default: all)\n"
    "  --help           this text\n"
    "\n"
    "Development aids (the figures they give are not the benchmark's): --no-floors,\n"
    "--same-core-only, --samples N, --requests get_health|get_session (one kind only),\n"
    "--trace-allocations (call stacks of one request's heap allocations).\n"
    "\n"
    "Placements: same_core (client and server threads all on CPU 0: the software cost) and\n"
    "cross_core (client on CPU 0, server on CPU 1). Scaling and memory run same_core.\n"
    "No timing is asserted; the exit status is non-zero only when a request failed.\n";

// ----- Running coroutines on the client's io_context ---------------------------------------

void run_phase(asio::io_context& ioc, asio::awaitable<void> a, std::chrono::seconds limit, const std::string& what) {
  // The phase runs inside one io_context::run(), as an application runs its io_context: Asio
  // keeps its per-thread recycled memory (handlers, coroutine frames) for the duration of a
  // run() call, and a loop of run_one_for() would start each handler with an empty cache.
  struct phase_state {
    bool done = false;
    bool timed_out = false;
    std::exception_ptr error;
  };
  auto st = std::make_shared<phase_state>();
  asio::steady_timer limit_timer(ioc, limit);
  limit_timer.async_wait([st, &ioc](const boost::system::error_code& ec) {
    if (ec || st->done) return;
    st->timed_out = true;
    ioc.stop();
  });
  asio::co_spawn(ioc, std::move(a), [st, &ioc](std::exception_ptr e) {
    st->done = true;
    st->error = e;
    ioc.stop();
  });
  ioc.restart();
  ioc.run();
  limit_timer.cancel();
  ioc.restart();
  ioc.poll();  // the cancelled limit's handler, and whatever became ready meanwhile
  if (st->timed_out && !st->done)
    throw std::runtime_error(what + ": did not finish within " + std::to_string(limit.count()) + " s");
  if (st->error) std::rethrow_exception(st->error);
}

/// Runs the io_context for `d` (lets background work settle).
void run_for(asio::io_context& ioc, std::chrono::milliseconds d) {
  const auto end = sclock::now() + d;
  while (sclock::now() < end) ioc.run_one_for(std::chrono::duration_cast<std::chrono::milliseconds>(end - sclock::now()));
}

/// Runs until `cond()` holds, up to `limit`; false on timeout.
bool run_until(asio::io_context& ioc, const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  const auto end = sclock::now() + limit;
  while (!cond()) {
    if (sclock::now() >= end) return false;
    ioc.run_one_for(10ms);
  }
  return true;
}

struct failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ----- What we measure ---------------------------------------------------------------------


struct latency_row {
  std::string placement, target, request, scenario;
  latency_summary s;
  double allocs_per_request = -1;
  double client_cpu_us = -1, server_cpu_us = -1;  ///< CPU time per request, each side
};
struct throughput_row {
  std::string placement, target, request, scenario;
  std::uint64_t in_flight = 0, requests = 0;
  double seconds = 0, rps = 0, allocs_per_request = -1;
  double client_cpu_us = -1, server_cpu_us = -1;
};

/// CPU time used by the client (this process) and one server child across a run.
struct cpu_meter {
  pid_t server;
  std::uint64_t c0 = cpu_ns(getpid()), s0 = cpu_ns(server);
  std::pair<double, double> per_request(std::uint64_t n) const {
    const double c = static_cast<double>(cpu_ns(getpid()) - c0), s = static_cast<double>(cpu_ns(server) - s0);
    return {c / 1000.0 / static_cast<double>(n), s / 1000.0 / static_cast<double>(n)};
  }
};

struct results {
  std::vector<latency_row> latency;
  std::vector<throughput_row> throughput;
  // memory
  std::size_t memory_nodes = 0;
  double client_rss_per_node = -1, client_heap_per_node = -1, client_blocks_per_node = -1;
  double daemon_rss_per_conn = -1, daemon_heap_per_conn = -1, daemon_blocks_per_conn = -1;
  std::size_t memory_sessions = 0;
  double daemon_heap_per_session = -1, daemon_rss_per_session = -1;
  std::vector<std::string> notes;
  bool failed = false;
};

// ----- neolith: daemon_node --------------------------------------------------------------

asio::awaitable<void> connect_node(neolith::daemon_node& node) {
  auto r = co_await node.connect();
  if (!r) throw failure("daemon_node could not connect: " + r.error().what());
}

asio::awaitable<void> disconnect_node(neolith::daemon_node& node) { (void)co_await node.disconnect(); }

/// One request of `kind`; false when it failed.
asio::awaitable<bool> one_request(neolith::daemon_node& node, request_kind kind, const std::string& sid) {
  if (kind == request_kind::get_health) {
    auto r = co_await node.get_health();
    co_return r.has_value();
  }
  auto r = co_await node.get_session(sid);
  co_return r.has_value() && r.value().has_value();
}

bool g_trace_request = false;

void print_trace() {
  std::printf("\n%d allocations in one request:\n", g_trace.count);
  for (int i = 0; i < g_trace.count; ++i) {
    std::printf("allocation %d: %zu bytes\n", i, g_trace.sizes[i]);
    std::fflush(stdout);
    backtrace_symbols_fd(g_trace.stacks[i], g_trace.frames[i], 1);
  }
  g_trace.count = 0;
}

struct run_counts {
  std::uint64_t failures = 0;
  std::uint64_t allocations = 0;
};

asio::awaitable<void> ours_rtt(neolith::daemon_node& node, request_kind kind, const std::string& sid,
                               std::size_t warmup, std::size_t n, std::vector<std::int64_t>& out, run_counts& rc) {
  out.clear();
  out.reserve(n);
  std::uint64_t a0 = heap().allocations.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < warmup + n; ++i) {
    if (i == warmup) a0 = heap().allocations.load(std::memory_order_relaxed);
    const bool trace = g_trace_request && i == warmup + n / 2;
    if (trace) g_trace.on.store(true);
    const auto t0 = sclock::now();
    const bool ok = co_await one_request(node, kind, sid);
    const auto t1 = sclock::now();
    if (trace) {
      g_trace.on.store(false);
      print_trace();
    }
    if (!ok) ++rc.failures;
    if (i >= warmup) out.push_back(ns_between(t0, t1));
  }
  rc.allocations = heap().allocations.load(std::memory_order_relaxed) - a0;
}

struct workers_state {
  std::uint64_t remaining = 0;
  std::size_t running = 0;
  std::uint64_t failures = 0;
};

asio::awaitable<void> ours_worker(neolith::daemon_node& node, request_kind kind, const std::string& sid,
                                  workers_state& st) {
  while (st.remaining > 0) {
    --st.remaining;
    const bool ok = co_await one_request(node, kind, sid);
    if (!ok) ++st.failures;
  }
}

/// `total` requests with `in_flight` of them outstanding at any time (that many coroutines,
/// each awaiting its requests one after the other).
asio::awaitable<void> ours_throughput(neolith::daemon_node& node, request_kind kind, const std::string& sid,
                                      std::uint64_t in_flight, std::uint64_t total, double& seconds,
                                      run_counts& rc) {
  auto ex = co_await asio::this_coro::executor;
  workers_state st;
  st.remaining = total;
  st.running = in_flight;
  asio::steady_timer all_done(ex);
  all_done.expires_at(sclock::time_point::max());
  auto on_worker_done = [&st, &all_done](std::exception_ptr) {
    if (--st.running == 0) all_done.cancel();
  };
  const auto a0 = heap().allocations.load(std::memory_order_relaxed);
  const auto t0 = sclock::now();
  for (std::uint64_t k = 0; k < in_flight; ++k) asio::co_spawn(ex, ours_worker(node, kind, sid, st), on_worker_done);
  while (st.running > 0) co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  seconds = std::chrono::duration<double>(sclock::now() - t0).count();
  rc.allocations = heap().allocations.load(std::memory_order_relaxed) - a0;
  rc.failures += st.failures;
}

// ----- The floors -------------------------------------------------------------------------

asio::awaitable<void> floor_connect_all(floor_ws& a, std::uint16_t pa, floor_ws& b, std::uint16_t pb) {
  co_await floor_connect(a, pa);
  co_await floor_connect(b, pb);
}

asio::awaitable<void> floor_rtt_phase(floor_ws& ws, const std::string& prefix, std::size_t warmup, std::size_t n,
                                      std::vector<std::int64_t>& out, run_counts& rc) {
  out.clear();
  out.reserve(n);
  co_await floor_rtt(ws, prefix, warmup, n, out, rc.allocations);
}

asio::awaitable<void> floor_throughput(floor_ws& ws, const std::string& prefix, std::uint64_t in_flight,
                                       std::uint64_t total, double& seconds, run_counts& rc) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  floor_pipeline p(ex);
  const auto a0 = heap().allocations.load(std::memory_order_relaxed);
  const auto t0 = sclock::now();
  co_await (floor_writer(ws, prefix, total, in_flight, p) && floor_reader(ws, total, p));
  seconds = std::chrono::duration<double>(sclock::now() - t0).count();
  rc.allocations = heap().allocations.load(std::memory_order_relaxed) - a0;
}

// ----- Probing the daemon (before the peers are forked: no thread exists yet) ---------------

struct probe_result {
  std::string session_id;
  std::string health_answer;
  std::string session_answer;
};

neolith::session_spawn_request bench_spawn_request(const std::string& task_id) {
  neolith::session_spawn_request r;
  r.orchestrator_id = "bench-orchestrator";
  r.type = neolith::session_type::claude_code;
  r.task.id = task_id;
  r.task.type = neolith::task_type::code;
  r.task.description = "benchmark task " + task_id;
  r.task.priority = neolith::task_priority::high;
  r.task.status = neolith::task_status::pending;
  r.task.created_at = neolith::now_timestamp();
  r.task.updated_at = r.task.created_at;
  return r;
}

probe_result probe_daemon(std::uint16_t port) {
  probe_result out;
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws.handshake("127.0.0.1:" + std::to_string(port), "/");
  const auto ask = [&](neolith::message m) {
    ws.text(true);
    ws.write(asio::buffer(neolith::encode(m)));
    for (;;) {
      beast::flat_buffer buf;
      ws.read(buf);
      std::string text = beast::buffers_to_string(buf.data());
      auto d = neolith::decode(text);
      if (!d) throw failure("the daemon sent an undecodable frame: " + text);
      const auto t = neolith::type_of(d.value());
      if (t == neolith::message_type::heartbeat) continue;
      if (t == neolith::message_type::error) throw failure("the daemon refused the probe: " + text);
      return std::pair{std::move(d).value(), std::move(text)};
    }
  };
  msg::spawn_session sp;
  sp.request_id = "probe.1";
  sp.request = bench_spawn_request("bench-task-1");
  auto [spawned, spawned_text] = ask(neolith::message(std::move(sp)));
  out.session_id = std::get<msg::session_spawned>(spawned).session_id;
  msg::get_health gh;
  gh.request_id = "probe.2";
  out.health_answer = ask(neolith::message(gh)).second;
  msg::get_session gs;
  gs.request_id = "probe.3";
  gs.session_id = out.session_id;
  out.session_answer = ask(neolith::message(gs)).second;
  beast::error_code ignored;
  ws.close(websocket::close_code::normal, ignored);
  return out;
}

/// The request frame daemon_node writes for `kind`, up to the requestId's value (the floor
/// client appends its own id): `{"type":"get_health","requestId":"abcdefghij.`.
std::string floor_prefix(request_kind kind, const std::string& sid) {
  neolith::message m;
  if (kind == request_kind::get_health) {
    m = msg::get_health{};
  } else {
    msg::get_session g;
    g.session_id = sid;
    m = std::move(g);
  }
  std::string s = neolith::encode(m);
  s.pop_back();  // '}'
  s += ",\"requestId\":\"floorbench.0.";
  return s;
}

// ----- Placement ------------------------------------------------------------------------------

struct placement {
  std::string name;
  cpu_set client, server;
};

void place_all(const placement& p, const std::vector<server_process*>& servers) {
  if (!pin_process(getpid(), p.client)) throw failure("sched_setaffinity failed for the client");
  for (auto* s : servers) {
    if (!pin_process(s->pid(), p.server)) throw failure("sched_setaffinity failed for a server child");
  }
}

// ----- Printing ---------------------------------------------------------------------------------

void print_latency_header(const std::string& title) {
  std::printf("\n%s\n", title.c_str());
  std::printf("  %-44s %8s %9s %9s %9s %9s %9s %10s %15s\n", "round trip, 1 in flight (us)", "samples", "p50", "p90",
              "p99", "p99.9", "max", "allocs/req", "cpu us/req c+s");
}

std::string label_of(const std::string& request, const std::string& target, const std::string& scenario) {
  std::string l = request + " " + target;
  if (scenario != "baseline") l += " [" + scenario + "]";
  return l;
}

void print_latency(const latency_row& r) {
  const std::string label = label_of(r.request, r.target, r.scenario);
  char allocs[32] = "-";
  if (r.allocs_per_request >= 0) std::snprintf(allocs, sizeof allocs, "%.2f", r.allocs_per_request);
  std::printf("  %-44s %8zu %9.1f %9.1f %9.1f %9.1f %9.1f %10s %7.1f+%-7.1f\n", label.c_str(), r.s.samples, r.s.p50_us,
              r.s.p90_us, r.s.p99_us, r.s.p999_us, r.s.max_us, allocs, r.client_cpu_us, r.server_cpu_us);
  std::fflush(stdout);
}

void print_throughput_header(const std::string& title) {
  std::printf("\n%s\n  %-44s %9s %10s %12s %10s %15s\n", title.c_str(), "throughput", "in flight", "requests",
              "requests/s", "allocs/req", "cpu us/req c+s");
}

void print_throughput(const throughput_row& r) {
  const std::string label = label_of(r.request, r.target, r.scenario);
  char allocs[32] = "-";
  if (r.allocs_per_request >= 0) std::snprintf(allocs, sizeof allocs, "%.2f", r.allocs_per_request);
  std::printf("  %-44s %9llu %10llu %12.0f %10s %7.1f+%-7.1f\n", label.c_str(),
              static_cast<unsigned long long>(r.in_flight), static_cast<unsigned long long>(r.requests), r.rps, allocs,
              r.client_cpu_us, r.server_cpu_us);
  std::fflush(stdout);
}

const latency_row* find_latency(const results& res, const std::string& placement, const std::string& target,
                                const std::string& request, const std::string& scenario = "baseline") {
  for (const auto& r : res.latency)
    if (r.placement == placement && r.target == target && r.request == request && r.scenario == scenario) return &r;
  return nullptr;
}

const throughput_row* find_throughput(const results& res, const std::string& placement, const std::string& target,
                                      const std::string& request, std::uint64_t in_flight,
                                      const std::string& scenario = "baseline") {
  for (const auto& r : res.throughput)
    if (r.placement == placement && r.target == target && r.request == request && r.in_flight == in_flight &&
        r.scenario == scenario)
      return &r;
  return nullptr;
}

// ----- The benchmark ------------------------------------------------------------------------

class benchmark {
 public:
  benchmark(settings s, server_process& daemon, server_process& scale_daemon, server_process& echo,
            server_process& responder, probe_result probe)
      : set_(std::move(s)),
        daemon_(daemon),
        scale_(scale_daemon),
        echo_(echo),
        responder_(responder),
        probe_(std::move(probe)),
        ioc_(1),
        work_(asio::make_work_guard(ioc_)),
        node_(ioc_.get_executor(), "bench", neolith::node_endpoint::ws("127.0.0.1", daemon.port())),
        echo_ws_(ioc_),
        responder_ws_(ioc_) {}

  results& res() { return res_; }

  void run() {
    run_phase(ioc_, connect_node(node_), 30s, "connecting daemon_node");
    run_phase(ioc_, floor_connect_all(echo_ws_, echo_.port(), responder_ws_, responder_.port()), 30s,
              "connecting the floor clients");
    std::vector<placement> placements{{"same_core", {{0}}, {{0}}}};
    if (online_cpus() >= 2 && set_.cross_core) placements.push_back({"cross_core", {{0}}, {{1}}});
    else res_.notes.push_back("one CPU online: the cross_core placement was skipped");
    std::vector<server_process*> servers{&daemon_, &scale_, &echo_, &responder_};
    for (const auto& p : placements) {
      place_all(p, servers);
      std::printf("\n=== placement %s: client on CPU %s, servers on CPU %s\n", p.name.c_str(), p.client.name().c_str(),
                  p.server.name().c_str());
      if (set_.section("latency")) latency(p);
      if (set_.section("throughput")) throughput(p);
    }
    place_all(placements.front(), servers);
    if (set_.section("pending")) pending(placements.front());
    if (set_.section("nodes") || set_.section("sessions")) scale(placements.front());
    run_phase(ioc_, disconnect_node(node_), 30s, "disconnecting");
  }

 private:
  pid_t pid_for_port(std::uint16_t port) const {
    for (const server_process* s : {&daemon_, &scale_, &echo_, &responder_})
      if (s->port() == port) return s->pid();
    return getpid();
  }

  // --- One-in-flight round trips ---
  // Ours and the two floors are measured in alternating batches (ten rounds of a tenth of the
  // samples each), so that the machine's drift over the run hits them alike: on these virtual
  // machines a floor measured a minute apart from ours moved by 40% on a noisy day, and the
  // ratio with it.
  struct rtt_acc {
    std::vector<std::int64_t> ns;
    std::uint64_t allocations = 0, failures = 0, requests = 0;
    double client_ns = 0, server_ns = 0;  // CPU time over the batches
    void add_cpu(const cpu_meter& m, std::uint64_t n) {
      const auto [c, sv] = m.per_request(n);
      client_ns += c * 1000.0 * static_cast<double>(n);
      server_ns += sv * 1000.0 * static_cast<double>(n);
      requests += n;
    }
    latency_row row(const std::string& placement, const std::string& target, request_kind kind,
                    const std::string& scenario, std::size_t samples) {
      const auto per = [this](double ns) { return requests ? ns / 1000.0 / static_cast<double>(requests) : 0.0; };
      return latency_row{placement, target, name_of(kind), scenario, summarize(ns),
                         static_cast<double>(allocations) / static_cast<double>(samples), per(client_ns), per(server_ns)};
    }
  };

  // A batch of our round trips on `node` (the server's CPU read from `server`), into `acc`.
  void ours_batch(neolith::daemon_node& node, request_kind kind, const std::string& sid, pid_t server,
                  std::size_t warmup, std::size_t n, rtt_acc& acc) {
    std::vector<std::int64_t> part;
    run_counts rc;
    const cpu_meter cpu{server};
    run_phase(ioc_, ours_rtt(node, kind, sid, warmup, n, part, rc), 600s, std::string("round trips of ") + name_of(kind));
    acc.add_cpu(cpu, warmup + n);
    acc.allocations += rc.allocations;
    acc.failures += rc.failures;
    acc.ns.insert(acc.ns.end(), part.begin(), part.end());
  }

  // A batch of a floor's round trips, into `acc`.
  void floor_batch(floor_ws& ws, request_kind kind, const std::string& name, std::size_t warmup, std::size_t n,
                   rtt_acc& acc) {
    std::vector<std::int64_t> part;
    run_counts rc;
    const cpu_meter cpu{pid_for_port(beast::get_lowest_layer(ws).socket().remote_endpoint().port())};
    run_phase(ioc_, floor_rtt_phase(ws, floor_prefix(kind, probe_.session_id), warmup, n, part, rc), 600s,
              name + " round trips");
    acc.add_cpu(cpu, warmup + n);
    acc.allocations += rc.allocations;
    acc.ns.insert(acc.ns.end(), part.begin(), part.end());
  }

  // Notes a failure when `node` did not answer all `expected` requests of `acc`.
  void check_answered(request_kind kind, const std::string& scenario, const rtt_acc& acc, std::uint64_t answered,
                      std::uint64_t expected) {
    if (acc.failures == 0 && answered == expected) return;
    res_.failed = true;
    res_.notes.push_back(std::string(name_of(kind)) + " (" + scenario + "): " + std::to_string(acc.failures) +
                         " requests failed; " + std::to_string(answered) + " answered");
  }

  void add_row(latency_row r) {
    print_latency(r);
    res_.latency.push_back(std::move(r));
  }

  void latency(const placement& p) {
    constexpr std::size_t rounds = 10;
    const std::size_t batch = std::max<std::size_t>(set_.samples / rounds, 1);
    const std::size_t batch_warmup = std::max<std::size_t>(set_.warmup / rounds, 1);
    print_latency_header("round trips, neolith and the floors interleaved in " + std::to_string(rounds) + " rounds (" +
                         p.name + ")");
    for (auto kind : set_.kinds) {
      rtt_acc ours, echo, responder;
      const auto before = node_.statistics();
      for (std::size_t round = 0; round < rounds; ++round) {
        ours_batch(node_, kind, probe_.session_id, pid_for_port(node_.endpoint().port), batch_warmup, batch, ours);
        if (!set_.floors) continue;
        floor_batch(echo_ws_, kind, "echo_floor", batch_warmup, batch, echo);
        floor_batch(responder_ws_, kind, "responder_floor", batch_warmup, batch, responder);
      }
      check_answered(kind, "baseline", ours, node_.statistics().answered - before.answered,
                     rounds * (batch_warmup + batch));
      add_row(ours.row(p.name, "neolith", kind, "baseline", batch * rounds));
      if (set_.floors) {
        add_row(echo.row(p.name, "echo_floor", kind, "baseline", batch * rounds));
        add_row(responder.row(p.name, "responder_floor", kind, "baseline", batch * rounds));
      }
    }
  }

  void measure_ours_rtt(const std::string& placement, const std::string& target, request_kind kind,
                        neolith::daemon_node& node, const std::string& sid, const std::string& scenario) {
    rtt_acc acc;
    const auto before = node.statistics();
    ours_batch(node, kind, sid, pid_for_port(node.endpoint().port), set_.warmup, set_.samples, acc);
    check_answered(kind, scenario, acc, node.statistics().answered - before.answered, set_.warmup + set_.samples);
    add_row(acc.row(placement, target, kind, scenario, set_.samples));
  }

  // --- Throughput ---
  void throughput(const placement& p) {
    print_throughput_header("throughput (" + p.name + ")");
    for (auto kind : set_.kinds) {
      for (auto k : set_.in_flight) {
        measure_ours_throughput(p.name, "neolith", kind, k, node_, probe_.session_id, "baseline");
        if (!set_.floors) continue;
        measure_floor_throughput(p.name, "responder_floor", kind, k, responder_ws_);
        measure_floor_throughput(p.name, "echo_floor", kind, k, echo_ws_);
      }
    }
  }

  void measure_ours_throughput(const std::string& placement, const std::string& target, request_kind kind, std::uint64_t k,
                               neolith::daemon_node& node, const std::string& sid, const std::string& scenario) {
    double seconds = 0;
    run_counts warm, rc;
    const std::uint64_t total = std::max<std::uint64_t>(set_.throughput_requests, 4 * k);
    run_phase(ioc_, ours_throughput(node, kind, sid, k, std::max<std::uint64_t>(total / 10, 2 * k), seconds, warm), 600s,
              "throughput warm-up");
    const cpu_meter cpu{pid_for_port(node.endpoint().port)};
    run_phase(ioc_, ours_throughput(node, kind, sid, k, total, seconds, rc), 600s, "throughput");
    const auto [ccpu, scpu] = cpu.per_request(total);
    if (rc.failures != 0 || warm.failures != 0) {
      res_.failed = true;
      res_.notes.push_back(std::string(name_of(kind)) + " throughput (" + scenario + ", " + std::to_string(k) +
                           " in flight): " + std::to_string(rc.failures + warm.failures) + " requests failed");
    }
    throughput_row r{placement, target, name_of(kind), scenario, k, total, seconds,
                     static_cast<double>(total) / seconds,
                     static_cast<double>(rc.allocations) / static_cast<double>(total), ccpu, scpu};
    print_throughput(r);
    res_.throughput.push_back(std::move(r));
  }

  void measure_floor_throughput(const std::string& placement, const std::string& target, request_kind kind,
                                std::uint64_t k, floor_ws& ws) {
    double seconds = 0;
    run_counts warm, rc;
    const std::uint64_t total = std::max<std::uint64_t>(set_.throughput_requests, 4 * k);
    const auto prefix = floor_prefix(kind, probe_.session_id);
    run_phase(ioc_, floor_throughput(ws, prefix, k, std::max<std::uint64_t>(total / 10, 2 * k), seconds, warm), 600s,
              target + " throughput warm-up");
    const cpu_meter cpu{pid_for_port(beast::get_lowest_layer(ws).socket().remote_endpoint().port())};
    run_phase(ioc_, floor_throughput(ws, prefix, k, total, seconds, rc), 600s, target + " throughput");
    const auto [ccpu, scpu] = cpu.per_request(total);
    throughput_row r{placement, target, name_of(kind), "baseline", k, total, seconds,
                     static_cast<double>(total) / seconds,
                     static_cast<double>(rc.allocations) / static_cast<double>(total), ccpu, scpu};
    print_throughput(r);
    res_.throughput.push_back(std::move(r));
  }

  // --- Requests pending ---
  // The daemon answers every request at once (its response_delay holds back every answer
  // alike), so the pending requests are parked on the minimal responder: a get_session whose
  // sessionId starts with "parked-" is never answered. daemon_node's table holds them (written,
  // with a deadline) while get_health round trips are measured on the same node.
  static asio::awaitable<void> park_one(neolith::daemon_node& node, std::string sid, std::size_t& ended) {
    auto r = co_await node.get_session(std::move(sid), std::chrono::milliseconds(std::chrono::hours(1)));
    (void)r;
    ++ended;
  }

  // One node per level, each with its parked requests, all connected at once: the round trips
  // of the levels are measured in alternating batches, so that the machine's drift over the
  // minutes of the run hits every level alike (measured one after the other, levels differed
  // by more than the table could explain: 100 pending slower than 10,000).
  void pending(const placement& p) {
    std::printf("\n=== requests pending on the node (%s), parked on the minimal responder\n", p.name.c_str());
    const auto ep = neolith::node_endpoint::ws("127.0.0.1", responder_.port());
    std::vector<std::unique_ptr<neolith::daemon_node>> nodes;
    std::size_t parked = 0, ended = 0;
    const long parked_before = responder_.report_value("parked");
    for (std::size_t target : set_.pending) {
      nodes.push_back(std::make_unique<neolith::daemon_node>(ioc_.get_executor(), "bench-pending-" + std::to_string(target), ep));
      auto& node = *nodes.back();
      run_phase(ioc_, connect_node(node), 30s, "connecting to the responder");
      for (std::size_t i = 0; i < target; ++i, ++parked)
        asio::co_spawn(ioc_, park_one(node, "parked-" + std::to_string(parked), ended), asio::detached);
    }
    // Wait until the responder holds them all (they are written and pending, not queued).
    const auto want = parked_before + static_cast<long>(parked);
    const auto deadline = sclock::now() + 60s;
    while (responder_.report_value("parked") < want) {
      if (sclock::now() > deadline) throw failure("the responder did not receive the parked requests");
      run_for(ioc_, 5ms);
    }
    constexpr std::size_t rounds = 10;
    const std::size_t batch = std::max<std::size_t>(set_.samples / rounds, 1);
    const std::size_t batch_warmup = std::max<std::size_t>(set_.warmup / rounds, 1);
    const std::size_t levels = nodes.size();
    std::vector<rtt_acc> acc(levels);
    for (std::size_t round = 0; round < rounds; ++round) {
      for (std::size_t l = 0; l < levels; ++l)
        ours_batch(*nodes[l], request_kind::get_health, "", responder_.pid(), batch_warmup, batch, acc[l]);
    }
    print_latency_header("round trips, " + std::to_string(levels) + " levels interleaved in " + std::to_string(rounds) +
                         " rounds (" + p.name + ")");
    for (std::size_t l = 0; l < levels; ++l) {
      const std::string scenario = "pending_" + std::to_string(set_.pending[l]);
      if (acc[l].failures != 0) {
        res_.failed = true;
        res_.notes.push_back("get_health (" + scenario + "): " + std::to_string(acc[l].failures) + " requests failed");
      }
      add_row(acc[l].row(p.name, "neolith_vs_responder", request_kind::get_health, scenario, batch * rounds));
    }
    std::printf("  %-44s %9s %10s %12s %10s %15s\n", "throughput", "in flight", "requests", "requests/s", "allocs/req", "cpu us/req c+s");
    for (std::size_t l = 0; l < levels; ++l)
      measure_ours_throughput(p.name, "neolith_vs_responder", request_kind::get_health, 128, *nodes[l], "",
                              "pending_" + std::to_string(set_.pending[l]));
    for (auto& node : nodes) run_phase(ioc_, disconnect_node(*node), 30s, "disconnecting from the responder");
    if (!run_until(ioc_, [&] { return ended == parked; }, 30s))
      throw failure("parked requests did not end after disconnect()");
  }

  // --- Many nodes, many sessions, memory ---
  static asio::awaitable<void> connect_and_warm(neolith::daemon_node& node) {
    auto r = co_await node.connect();
    if (!r) throw failure("a daemon_node could not connect: " + r.error().what());
    auto h = co_await node.get_health();  // one request: buffers as after use
    (void)h;
  }

  static asio::awaitable<void> connect_batch(std::vector<std::unique_ptr<neolith::daemon_node>>& nodes,
                                             std::size_t from, std::size_t to) {
    // A few connections at a time: the listen backlog is not what is measured.
    constexpr std::size_t parallel = 32;
    for (std::size_t i = from; i < to; i += parallel) {
      const std::size_t end = std::min(to, i + parallel);
      auto ex = co_await asio::this_coro::executor;
      std::size_t left = end - i;
      asio::steady_timer done(ex);
      done.expires_at(sclock::time_point::max());
      std::exception_ptr first_error;
      auto on_done = [&left, &done, &first_error](std::exception_ptr e) {
        if (e && !first_error) first_error = e;
        if (--left == 0) done.cancel();
      };
      for (std::size_t j = i; j < end; ++j) asio::co_spawn(ex, connect_and_warm(*nodes[j]), on_done);
      while (left > 0) co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
      if (first_error) std::rethrow_exception(first_error);
    }
  }

  static asio::awaitable<void> spawn_worker(neolith::daemon_node& node, std::uint64_t& next, std::uint64_t total,
                                            std::vector<std::string>& ids, std::uint64_t& failures) {
    while (next < total) {
      const auto i = next++;
      auto r = co_await node.spawn_session(bench_spawn_request("bench-task-" + std::to_string(i)));
      if (r) ids.push_back(r.value().id);
      else ++failures;
    }
  }

  static asio::awaitable<void> spawn_many(neolith::daemon_node& node, std::uint64_t total,
                                          std::vector<std::string>& ids, std::uint64_t& failures) {
    auto ex = co_await asio::this_coro::executor;
    std::uint64_t next = 0;
    std::size_t running = 64;
    asio::steady_timer done(ex);
    done.expires_at(sclock::time_point::max());
    auto on_done = [&running, &done](std::exception_ptr) {
      if (--running == 0) done.cancel();
    };
    for (std::size_t k = 0, n = running; k < n; ++k)
      asio::co_spawn(ex, spawn_worker(node, next, total, ids, failures), on_done);
    while (running > 0) co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  void scale_figures(const placement& p, neolith::daemon_node& node, const std::string& sid,
                     const std::string& scenario) {
    measure_ours_rtt(p.name, "neolith", request_kind::get_health, node, sid, scenario);
    measure_ours_rtt(p.name, "neolith", request_kind::get_session, node, sid, scenario);
    std::printf("  %-44s %9s %10s %12s %10s %15s\n", "throughput", "in flight", "requests", "requests/s", "allocs/req", "cpu us/req c+s");
    measure_ours_throughput(p.name, "neolith", request_kind::get_health, 128, node, sid, scenario);
  }

  void scale(const placement& p) {
    std::printf("\n=== scaling on a second daemon (%s)\n", p.name.c_str());
    std::vector<std::unique_ptr<neolith::daemon_node>> nodes;
    const auto ep = neolith::node_endpoint::ws("127.0.0.1", scale_.port());
    nodes.push_back(std::make_unique<neolith::daemon_node>(ioc_.get_executor(), "bench-scale-0", ep));
    auto& first = *nodes.front();
    run_phase(ioc_, connect_node(first), 30s, "connecting to the second daemon");
    std::vector<std::string> ids;
    std::uint64_t spawn_failures = 0;
    run_phase(ioc_, spawn_many(first, 1, ids, spawn_failures), 60s, "spawning the first session");
    if (ids.empty()) throw failure("the second daemon refused to spawn a session");
    const std::string sid = ids.front();

    print_latency_header("round trips: 1 node, 1 session (" + p.name + ")");
    scale_figures(p, first, sid, "scale_base");

    if (set_.section("nodes")) {
      const std::size_t extra = set_.nodes - 1;
      std::printf("\n--- %zu daemon_nodes connected to one daemon\n", set_.nodes);
      // Memory before: both sides trimmed (freed memory handed back) so that the deltas count
      // what the connections hold.
      malloc_trim(0);
      const long c_rss0 = rss_kib(0);
      const auto c_heap0 = heap().live_bytes.load();
      const auto c_blocks0 = heap().live_blocks.load();
      auto d0 = scale_.report();
      const long d_rss0 = rss_kib(scale_.pid());
      for (std::size_t i = 1; i <= extra; ++i)
        nodes.push_back(std::make_unique<neolith::daemon_node>(ioc_.get_executor(), "bench-scale-" + std::to_string(i), ep));
      run_phase(ioc_, connect_batch(nodes, 1, nodes.size()), 600s, "connecting the nodes");
      run_for(ioc_, 200ms);
      if (scale_.report_value("connections") != static_cast<long>(set_.nodes))
        res_.notes.push_back("the second daemon did not count every connection");
      malloc_trim(0);
      const long c_rss1 = rss_kib(0);
      const auto c_heap1 = heap().live_bytes.load();
      const auto c_blocks1 = heap().live_blocks.load();
      auto d1 = scale_.report();
      const long d_rss1 = rss_kib(scale_.pid());
      const double n = static_cast<double>(extra);
      res_.memory_nodes = extra;
      res_.client_rss_per_node = static_cast<double>(c_rss1 - c_rss0) * 1024.0 / n;
      res_.client_heap_per_node = static_cast<double>(c_heap1 - c_heap0) / n;
      res_.client_blocks_per_node = static_cast<double>(c_blocks1 - c_blocks0) / n;
      res_.daemon_rss_per_conn = static_cast<double>(d_rss1 - d_rss0) * 1024.0 / n;
      res_.daemon_heap_per_conn = static_cast<double>(std::stol(d1["heap_bytes"]) - std::stol(d0["heap_bytes"])) / n;
      res_.daemon_blocks_per_conn =
          static_cast<double>(std::stol(d1["heap_blocks"]) - std::stol(d0["heap_blocks"])) / n;
      std::printf("  memory per idle connection over %zu connections (after one request each):\n", extra);
      std::printf("    client, per daemon_node:   %8.0f B resident  %8.0f B heap  %6.1f heap blocks\n",
                  res_.client_rss_per_node, res_.client_heap_per_node, res_.client_blocks_per_node);
      std::printf("    daemon, per connection:    %8.0f B resident  %8.0f B heap  %6.1f heap blocks\n",
                  res_.daemon_rss_per_conn, res_.daemon_heap_per_conn, res_.daemon_blocks_per_conn);
      print_latency_header("round trips: " + std::to_string(set_.nodes) + " nodes connected (" + p.name + ")");
      scale_figures(p, first, sid, "nodes_" + std::to_string(set_.nodes));
      // Let the others go.
      for (std::size_t i = 1; i < nodes.size(); ++i) run_phase(ioc_, disconnect_node(*nodes[i]), 30s, "disconnecting");
      nodes.resize(1);
      run_until(ioc_, [&] { return scale_.report_value("connections") <= 1; }, 30s);
    }

    if (set_.section("sessions")) {
      std::printf("\n--- %zu live sessions on the daemon\n", set_.sessions);
      auto d0 = scale_.report();
      const long d_rss0 = rss_kib(scale_.pid());
      const std::uint64_t more = set_.sessions - ids.size();
      std::vector<std::string> more_ids;
      run_phase(ioc_, spawn_many(first, more, more_ids, spawn_failures), 600s, "spawning sessions");
      if (spawn_failures) {
        res_.failed = true;
        res_.notes.push_back(std::to_string(spawn_failures) + " spawn_session requests failed");
      }
      auto d1 = scale_.report();
      const long d_rss1 = rss_kib(scale_.pid());
      res_.memory_sessions = more_ids.size();
      if (!more_ids.empty()) {
        const double n = static_cast<double>(more_ids.size());
        res_.daemon_heap_per_session =
            static_cast<double>(std::stol(d1["heap_bytes"]) - std::stol(d0["heap_bytes"])) / n;
        res_.daemon_rss_per_session = static_cast<double>(d_rss1 - d_rss0) * 1024.0 / n;
      }
      std::printf("  daemon: %s live sessions; per session %0.f B heap, %0.f B resident\n", d1["sessions"].c_str(),
                  res_.daemon_heap_per_session, res_.daemon_rss_per_session);
      // Ask for a session from the middle of the registry.
      const std::string mid = more_ids.empty() ? sid : more_ids[more_ids.size() / 2];
      print_latency_header("round trips: " + std::to_string(set_.sessions) + " live sessions (" + p.name + ")");
      scale_figures(p, first, mid, "sessions_" + std::to_string(set_.sessions));
    }
    run_phase(ioc_, disconnect_node(first), 30s, "disconnecting");
  }

  settings set_;
  server_process& daemon_;
  server_process& scale_;
  server_process& echo_;
  server_process& responder_;
  probe_result probe_;
  results res_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  neolith::daemon_node node_;
  floor_ws echo_ws_;
  floor_ws responder_ws_;
};

// ----- Report -----------------------------------------------------------------------------------

struct verdict {
  std::string target;
  double value = 0, limit = 0;
  bool met = false;
  std::string detail;
};

std::vector<verdict> verdicts(const results& res, const settings& set) {
  std::vector<verdict> v;
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  const std::string pl = "same_core";
  const auto* ours = find_latency(res, pl, "neolith", "get_health");
  const auto* echo = find_latency(res, pl, "echo_floor", "get_health");
  if (ours && echo) {
    const double r50 = ratio(ours->s.p50_us, echo->s.p50_us), r99 = ratio(ours->s.p99_us, echo->s.p99_us);
    v.push_back({"get_health p50 / echo floor p50 (same_core)", r50, 1.25, r50 <= 1.25, ""});
    v.push_back({"get_health p99 / echo floor p99 (same_core)", r99, 2.0, r99 <= 2.0, ""});
  }
  const auto* ot = find_throughput(res, pl, "neolith", "get_health", 128);
  const auto* rt = find_throughput(res, pl, "responder_floor", "get_health", 128);
  if (ot && rt) {
    const double r = ratio(ot->rps, rt->rps);
    v.push_back({"get_health throughput, 128 in flight / responder floor (same_core)", r, 1.2, r >= 1.2, ""});
  }
  if (!set.pending.empty()) {
    const auto* p1 = find_latency(res, pl, "neolith_vs_responder", "get_health", "pending_" + std::to_string(set.pending.front()));
    const auto* pn = find_latency(res, pl, "neolith_vs_responder", "get_health", "pending_" + std::to_string(set.pending.back()));
    if (p1 && pn) {
      const double r = ratio(pn->s.p50_us, p1->s.p50_us);
      v.push_back({"p50 with " + std::to_string(set.pending.back()) + " pending / with " +
                       std::to_string(set.pending.front()) + " pending",
                   r, 1.2, r <= 1.2, ""});
    }
  }
  if (res.memory_nodes > 0) {
    v.push_back({"resident bytes per idle daemon_node", res.client_rss_per_node, 12288,
                 res.client_rss_per_node <= 12288, ""});
    v.push_back({"resident bytes per idle daemon connection", res.daemon_rss_per_conn, 12288,
                 res.daemon_rss_per_conn <= 12288, ""});
  }
  if (ours) {
    v.push_back({"heap allocations per get_health on the client", ours->allocs_per_request, 4,
                 ours->allocs_per_request <= 4, ""});
  }
  return v;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_summary(json_writer& j, const latency_summary& s) {
  j.field("samples", s.samples)
      .field("p50_us", s.p50_us)
      .field("p90_us", s.p90_us)
      .field("p99_us", s.p99_us)
      .field("p999_us", s.p999_us)
      .field("max_us", s.max_us)
      .field("min_us", s.min_us)
      .field("mean_us", s.mean_us);
}

std::string to_json(const results& res, const settings& set, const std::string& load_before,
                    const std::string& load_after) {
  json_writer j;
  j.begin_object();
  j.field("benchmark", "request_latency");
  j.field("mode", set.quick ? "quick" : "full");
  j.field("date", now_utc());
  j.key("machine").begin_object();
  utsname u{};
  uname(&u);
  j.field("cpus_online", online_cpus()).field("cpu", cpu_model()).field("kernel", std::string(u.release));
  j.field("loadavg_before", load_before).field("loadavg_after", load_after);
  j.end_object();
  j.key("method").begin_object();
  j.field("client", "daemon_node on one io_context thread (the benchmark's main thread)");
  j.field("servers", "each in a child process on one io_context thread: neolith daemon_server, Beast echo, Beast responder");
  j.field("warmup", set.warmup).field("samples", set.samples).field("throughput_requests", set.throughput_requests);
  j.end_object();

  j.key("latency").begin_array();
  for (const auto& r : res.latency) {
    j.begin_object();
    j.field("placement", r.placement).field("scenario", r.scenario).field("target", r.target).field("request", r.request);
    write_summary(j, r.s);
    j.field("allocations_per_request", r.allocs_per_request);
    j.field("client_cpu_us_per_request", r.client_cpu_us).field("server_cpu_us_per_request", r.server_cpu_us);
    j.end_object();
  }
  j.end_array();

  j.key("throughput").begin_array();
  for (const auto& r : res.throughput) {
    j.begin_object();
    j.field("placement", r.placement).field("scenario", r.scenario).field("target", r.target).field("request", r.request);
    j.field("in_flight", r.in_flight).field("requests", r.requests).field("seconds", r.seconds);
    j.field("requests_per_second", r.rps).field("allocations_per_request", r.allocs_per_request);
    j.field("client_cpu_us_per_request", r.client_cpu_us).field("server_cpu_us_per_request", r.server_cpu_us);
    j.end_object();
  }
  j.end_array();

  j.key("ratios").begin_array();
  for (const auto& r : res.latency) {
    if (r.target != "neolith" || r.scenario != "baseline") continue;
    const auto* echo = find_latency(res, r.placement, "echo_floor", r.request);
    const auto* resp = find_latency(res, r.placement, "responder_floor", r.request);
    j.begin_object();
    j.field("placement", r.placement).field("request", r.request).field("kind", "round_trip");
    if (echo) j.field("p50_vs_echo", r.s.p50_us / echo->s.p50_us).field("p99_vs_echo", r.s.p99_us / echo->s.p99_us);
    if (resp) j.field("p50_vs_responder", r.s.p50_us / resp->s.p50_us).field("p99_vs_responder", r.s.p99_us / resp->s.p99_us);
    j.end_object();
  }
  for (const auto& r : res.throughput) {
    if (r.target != "neolith" || r.scenario != "baseline") continue;
    const auto* echo = find_throughput(res, r.placement, "echo_floor", r.request, r.in_flight);
    const auto* resp = find_throughput(res, r.placement, "responder_floor", r.request, r.in_flight);
    j.begin_object();
    j.field("placement", r.placement).field("request", r.request).field("kind", "throughput").field("in_flight", r.in_flight);
    if (echo) j.field("vs_echo", r.rps / echo->rps);
    if (resp) j.field("vs_responder", r.rps / resp->rps);
    j.end_object();
  }
  j.end_array();

  j.key("memory").begin_object();
  j.field("connections", res.memory_nodes);
  j.field("client_resident_bytes_per_node", res.client_rss_per_node);
  j.field("client_heap_bytes_per_node", res.client_heap_per_node);
  j.field("client_heap_blocks_per_node", res.client_blocks_per_node);
  j.field("daemon_resident_bytes_per_connection", res.daemon_rss_per_conn);
  j.field("daemon_heap_bytes_per_connection", res.daemon_heap_per_conn);
  j.field("daemon_heap_blocks_per_connection", res.daemon_blocks_per_conn);
  j.field("sessions", res.memory_sessions);
  j.field("daemon_heap_bytes_per_session", res.daemon_heap_per_session);
  j.field("daemon_resident_bytes_per_session", res.daemon_rss_per_session);
  j.end_object();

  j.key("targets").begin_array();
  for (const auto& v : verdicts(res, set)) {
    j.begin_object();
    j.field("target", v.target).field("value", v.value).field("limit", v.limit).field("met", v.met);
    j.end_object();
  }
  j.end_array();

  j.key("notes").begin_array();
  for (const auto& n : res.notes) j.value(n);
  j.end_array();
  j.field("all_requests_answered", !res.failed);
  j.end_object();
  return j.str();
}

void print_ratios(const results& res) {
  std::printf("\n=== ratios neolith / floor\n");
  for (const auto& r : res.latency) {
    if (r.target != "neolith" || r.scenario != "baseline") continue;
    const auto* echo = find_latency(res, r.placement, "echo_floor", r.request);
    const auto* resp = find_latency(res, r.placement, "responder_floor", r.request);
    if (!echo || !resp) continue;
    std::printf("  %-10s %-12s round trip  p50 %5.2fx echo, %5.2fx responder   p99 %5.2fx echo, %5.2fx responder\n",
                r.placement.c_str(), r.request.c_str(), r.s.p50_us / echo->s.p50_us, r.s.p50_us / resp->s.p50_us,
                r.s.p99_us / echo->s.p99_us, r.s.p99_us / resp->s.p99_us);
  }
  for (const auto& r : res.throughput) {
    if (r.target != "neolith" || r.scenario != "baseline") continue;
    const auto* echo = find_throughput(res, r.placement, "echo_floor", r.request, r.in_flight);
    const auto* resp = find_throughput(res, r.placement, "responder_floor", r.request, r.in_flight);
    if (!echo || !resp) continue;
    std::printf("  %-10s %-12s throughput %5llu in flight  %5.2fx echo, %5.2fx responder\n", r.placement.c_str(),
                r.request.c_str(), static_cast<unsigned long long>(r.in_flight), r.rps / echo->rps, r.rps / resp->rps);
  }
}

}  // namespace

int main(int argc, char** argv) {
  settings set;
  std::size_t samples_override = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      set.quick = true;
    } else if (a == "--json" && i + 1 < argc) {
      set.json_path = argv[++i];
    } else if (a.rfind("--json=", 0) == 0) {
      set.json_path = a.substr(7);
    } else if ((a == "--only" && i + 1 < argc) || a.rfind("--only=", 0) == 0) {
      std::string list = a == "--only" ? argv[++i] : a.substr(7);
      std::stringstream ss(list);
      std::string item;
      while (std::getline(ss, item, ',')) {
        static const std::set<std::string> known{"latency", "throughput", "pending", "nodes", "sessions"};
        if (!known.contains(item)) {
          std::fprintf(stderr, "request_latency: unknown section '%s'\n%s", item.c_str(), usage_text);
          return 2;
        }
        set.only.insert(item);
      }
    } else if (a == "--same-core-only") {
      set.cross_core = false;
    } else if (a == "--no-floors") {
      set.floors = false;  // development aid: profile neolith alone
    } else if (a == "--samples" && i + 1 < argc) {
      samples_override = std::stoul(argv[++i]);  // development aid
    } else if ((a == "--requests" && i + 1 < argc) || a.rfind("--requests=", 0) == 0) {
      const std::string kind = a == "--requests" ? argv[++i] : a.substr(11);  // development aid
      if (kind == "get_health") {
        set.kinds = {request_kind::get_health};
      } else if (kind == "get_session") {
        set.kinds = {request_kind::get_session};
      } else {
        std::fprintf(stderr, "request_latency: --requests takes get_health or get_session, not '%s'\n%s", kind.c_str(),
                     usage_text);
        return 2;
      }
    } else if (a == "--trace-allocations") {
      g_trace_request = true;  // development aid: the stacks of one request's allocations
      void* warm[2];
      backtrace(warm, 2);  // loads the unwinder now, not while tracing
    } else if (a == "--help" || a == "-h") {
      std::fputs(usage_text, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "request_latency: unknown argument '%s'\n%s", a.c_str(), usage_text);
      return 2;
    }
  }
  if (set.quick) {
    set.warmup = 200;
    set.samples = 2'000;
    set.throughput_requests = 10'000;
    set.nodes = 100;
    set.sessions = 1'000;
  }
  if (samples_override) set.samples = samples_override;

  // 1,000 nodes need 1,000 sockets here and 1,000 in the daemon.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < set.nodes + 64) {
    set.nodes = rl.rlim_cur > 128 ? static_cast<std::size_t>(rl.rlim_cur - 64) : 16;
  }
  signal(SIGPIPE, SIG_IGN);

  const std::string load_before = read_first_line("/proc/loadavg");
  std::printf("request_latency (%s mode): %d CPUs online (%s), load average %s\n", set.quick ? "quick" : "full",
              online_cpus(), cpu_model().c_str(), load_before.c_str());
  std::printf("warm-up %zu, samples %zu per round-trip figure, %llu requests per throughput figure\n", set.warmup,
              set.samples, static_cast<unsigned long long>(set.throughput_requests));

  try {
    // Every child is forked while this process still has one thread.
    server_config dc;
    dc.kind = server_kind::daemon;
    dc.max_sessions = 100;
    server_process daemon(dc);
    server_config sc;
    sc.kind = server_kind::daemon;
    sc.max_sessions = set.sessions + 100;
    server_process scale_daemon(sc);
    probe_result probe = probe_daemon(daemon.port());
    server_config ec;
    ec.kind = server_kind::echo;
    server_process echo(ec);
    server_config rc;
    rc.kind = server_kind::responder;
    rc.frames.health_prefix = cut_before_request_id(probe.health_answer);
    rc.frames.session_prefix = cut_before_request_id(probe.session_answer);
    server_process responder(rc);
    std::printf("frames: get_health answer %zu bytes, get_session answer %zu bytes\n", probe.health_answer.size(),
                probe.session_answer.size());

    benchmark b(set, daemon, scale_daemon, echo, responder, probe);
    b.run();
    results& res = b.res();

    print_ratios(res);
    std::printf("\n=== targets (figures only; nothing is asserted)\n");
    for (const auto& v : verdicts(res, set)) {
      std::printf("  %-70s %10.2f  (limit %g)  %s\n", v.target.c_str(), v.value, v.limit, v.met ? "met" : "MISSED");
    }
    for (const auto& n : res.notes) std::printf("note: %s\n", n.c_str());

    const std::string load_after = read_first_line("/proc/loadavg");
    std::ofstream out(set.json_path);
    out << to_json(res, set, load_before, load_after) << "\n";
    out.close();
    if (!out) {
      std::fprintf(stderr, "request_latency: cannot write %s\n", set.json_path.c_str());
      return 1;
    }
    std::printf("\nload average after: %s\nJSON written to %s\n", load_after.c_str(), set.json_path.c_str());
    return res.failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "request_latency: %s\n", e.what());
    return 1;
  }
}
