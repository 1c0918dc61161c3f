// The daemon's parts without sockets: /proc parsing and health thresholds, the idempotency
// window's bounds, the session registry (with a runner that records what it is told), the
// request core's answers, and option validation.
#define BOOST_TEST_MODULE daemon_units
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <neolith/daemon/detail/daemon_core.hpp>
#include <neolith/daemon/detail/daemon_idempotency.hpp>
#include <neolith/daemon/detail/health_monitor.hpp>
#include <neolith/daemon/detail/session_registry.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using namespace neolith;
using namespace neolith::detail;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

/// A runner that records calls and lets the test end runs on their own.
class recording_runner final : public session_runner {
 public:
  std::string_view name() const noexcept override { return "recording"; }
  result<void> start(const run_request& r, end_handler on_end) override {
    std::lock_guard lock(mu);
    if (fail_next) {
      fail_next = false;
      return error_info(error::internal, "refused by the test runner");
    }
    started.push_back(r.run_id);
    snapshots.push_back(r.snapshot ? std::optional<json::object>(*r.snapshot) : std::nullopt);
    handlers[r.run_id] = std::move(on_end);
    return outcome::success();
  }
  void terminate(std::uint64_t run_id) override {
    std::lock_guard lock(mu);
    terminated.push_back(run_id);
    handlers.erase(run_id);
  }
  void shutdown(bool, std::function<void()> done) override {
    if (done) done();
  }
  std::size_t active_runs() const override {
    std::lock_guard lock(mu);
    return handlers.size();
  }
  /// Ends a run as its process would (outside the registry's lock, like a real runner).
  void end(std::uint64_t run_id, bool success) {
    end_handler h;
    {
      std::lock_guard lock(mu);
      auto it = handlers.find(run_id);
      if (it == handlers.end()) return;
      h = std::move(it->second);
      handlers.erase(it);
    }
    h(run_outcome{success, success ? 0 : 1, 0});
  }

  mutable std::mutex mu;
  bool fail_next = false;
  std::vector<std::uint64_t> started;
  std::vector<std::uint64_t> terminated;
  std::vector<std::optional<json::object>> snapshots;
  std::map<std::uint64_t, end_handler> handlers;
};

session_spawn_request spawn_req(session_type t = session_type::claude_code) {
  session_spawn_request r;
  r.orchestrator_id = "orch";
  r.task.id = "t1";
  r.task.description = "d";
  r.type = t;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(proc_stat_and_meminfo_parsing) {
  auto t = parse_proc_stat("cpu  100 20 30 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n");
  BOOST_TEST_REQUIRE(t.has_value());
  BOOST_TEST(t->total == 1000u);
  BOOST_TEST(t->busy == 150u);  // idle + iowait are not busy
  BOOST_TEST(!parse_proc_stat("").has_value());
  BOOST_TEST(!parse_proc_stat("intr 1 2 3").has_value());
  BOOST_TEST(!parse_proc_stat("cpu  1 2").has_value());

  auto m = parse_proc_meminfo("MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\n");
  BOOST_TEST_REQUIRE(m.has_value());
  BOOST_TEST(*m == 75.0);
  // Old kernels without MemAvailable: free + buffers + cached.
  auto old = parse_proc_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 300 kB\n");
  BOOST_TEST_REQUIRE(old.has_value());
  BOOST_TEST(*old == 50.0);
  BOOST_TEST(!parse_proc_meminfo("garbage").has_value());
  BOOST_TEST(!parse_proc_meminfo("MemTotal: 0 kB\nMemAvailable: 0 kB\n").has_value());

  // The real machine.
  machine_sampler s;
  s.sample();
  BOOST_TEST(s.cpu_usage() >= 0.0);
  BOOST_TEST(s.cpu_usage() <= 100.0);
  BOOST_TEST(s.memory_usage() > 0.0);
  BOOST_TEST(s.memory_usage() <= 100.0);
}

BOOST_AUTO_TEST_CASE(health_status_thresholds) {
  const neolith::health_thresholds t;
  BOOST_TEST((classify_health(t, 10, 20, 0, 10, 1) == node_status::healthy));
  BOOST_TEST((classify_health(t, 85, 20, 0, 10, 1) == node_status::degraded));
  BOOST_TEST((classify_health(t, 10, 90, 0, 10, 1) == node_status::degraded));
  BOOST_TEST((classify_health(t, 10, 20, 9, 10, 1) == node_status::degraded));   // near capacity
  BOOST_TEST((classify_health(t, 10, 20, 8, 10, 1) == node_status::healthy));
  BOOST_TEST((classify_health(t, 10, 20, 0, 0, 1) == node_status::healthy));     // no capacity at all
  BOOST_TEST((classify_health(t, 10, 20, 0, 10, 1000) == node_status::degraded));
  BOOST_TEST((classify_health(t, 98, 20, 0, 10, 1) == node_status::unhealthy));
  BOOST_TEST((classify_health(t, 10, 98, 0, 10, 1) == node_status::unhealthy));
  BOOST_TEST((classify_health(t, 10, 20, 0, 10, 10000) == node_status::unhealthy));

  response_times rt;
  BOOST_TEST(rt.mean_ms() == 0.0);
  rt.record(milliseconds(2));
  rt.record(milliseconds(4));
  BOOST_TEST(rt.mean_ms() == 3.0);
  for (int i = 0; i < 1000; ++i) rt.record(milliseconds(1));  // only the recent ones count
  BOOST_TEST(rt.mean_ms() == 1.0);
}

BOOST_AUTO_TEST_CASE(response_times_are_read_without_a_lock_while_recorded) {
  // get_health reads the mean on any io thread while answers record theirs on others: the
  // reads never block and never see a torn or impossible value (TSan checks the rest).
  response_times rt;
  std::atomic<bool> bad{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&rt] {
      for (int i = 0; i < 20000; ++i) rt.record(milliseconds(1 + i % 3));  // 1, 2 or 3 ms
    });
  }
  std::thread reader([&] {
    for (int i = 0; i < 20000; ++i) {
      const double m = rt.mean_ms();
      if (m != 0.0 && (m < 1.0 || m > 3.0)) bad = true;
    }
  });
  for (auto& t : writers) t.join();
  reader.join();
  BOOST_TEST(!bad.load());
  BOOST_TEST(rt.mean_ms() >= 1.0);
  BOOST_TEST(rt.mean_ms() <= 3.0);

  machine_sampler s;
  std::thread sampler([&s] {
    for (int i = 0; i < 20; ++i) s.sample();
  });
  for (int i = 0; i < 20000; ++i) {
    const double c = s.cpu_usage(), m = s.memory_usage();
    if (c < 0.0 || c > 100.0 || m < 0.0 || m > 100.0) bad = true;
  }
  sampler.join();
  BOOST_TEST(!bad.load());
}

BOOST_AUTO_TEST_CASE(idempotency_window_bounds) {
  using clock = idempotency_window::clock;
  const auto t0 = clock::now();
  idempotency_window w(milliseconds(1000), 3, 1 << 20);
  w.record("spawn_session", "a", "A", t0);
  w.record("spawn_session", "b", "B", t0);
  BOOST_TEST_REQUIRE(w.find("spawn_session", "a", t0) != nullptr);
  BOOST_TEST(*w.find("spawn_session", "a", t0) == "A");
  BOOST_TEST(w.find("terminate_session", "a", t0) == nullptr);  // the type is part of the key
  BOOST_TEST(w.find("spawn_session", "c", t0) == nullptr);
  // Count bound: the oldest goes.
  w.record("spawn_session", "c", "C", t0);
  w.record("spawn_session", "d", "D", t0);
  BOOST_TEST(w.size() == 3u);
  BOOST_TEST(w.find("spawn_session", "a", t0) == nullptr);
  BOOST_TEST(w.find("spawn_session", "d", t0) != nullptr);
  // Time bound.
  BOOST_TEST(w.find("spawn_session", "d", t0 + milliseconds(999)) != nullptr);
  BOOST_TEST(w.find("spawn_session", "d", t0 + milliseconds(1000)) == nullptr);
  BOOST_TEST(w.size() == 0u);
  BOOST_TEST(w.bytes() == 0u);
  // Byte bound.
  idempotency_window small(milliseconds(1000), 100, 100);
  small.record("spawn_session", "x", std::string(60, 'x'), t0);
  small.record("spawn_session", "y", std::string(60, 'y'), t0);
  BOOST_TEST(small.find("spawn_session", "x", t0) == nullptr);
  BOOST_TEST(small.find("spawn_session", "y", t0) != nullptr);
  BOOST_TEST(small.bytes() <= 100u);
  // The default bounds hold 10,000 answers.
  idempotency_window big(std::chrono::minutes(10), 10'000, 256u << 20);
  for (int i = 0; i < 10'000; ++i) big.record("spawn_session", std::to_string(i), std::string(200, 'a'), t0);
  BOOST_TEST(big.size() == 10'000u);
  BOOST_TEST(big.find("spawn_session", "0", t0 + std::chrono::minutes(9)) != nullptr);
}

BOOST_AUTO_TEST_CASE(registry_with_a_runner) {
  auto runner = std::make_shared<recording_runner>();
  session_registry_limits l;
  l.max_live = 2;
  auto reg = std::make_shared<session_registry>(l, runner);
  std::vector<session> updates;
  std::mutex mu;
  reg->set_update_handler([&](const session& s) {
    std::lock_guard lock(mu);
    updates.push_back(s);
  });

  auto a = reg->spawn(spawn_req());
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST((a.value().status == session_status::running));
  BOOST_TEST(a.value().id.size() == 36u);  // a UUID
  auto b = reg->spawn(spawn_req(session_type::claude_flow));
  BOOST_TEST_REQUIRE(b.has_value());
  BOOST_TEST(a.value().id != b.value().id);
  auto c = reg->spawn(spawn_req());
  BOOST_TEST_REQUIRE(!c.has_value());
  BOOST_TEST(c.error() == error::capacity_exceeded);

  // The run of `a` ends on its own: completed, pushed once.
  runner->end(runner->started[0], true);
  {
    std::lock_guard lock(mu);
    BOOST_TEST_REQUIRE(updates.size() == 1u);
    BOOST_TEST((updates[0].status == session_status::completed));
    BOOST_TEST(updates[0].ended_at.has_value());
  }
  BOOST_TEST(reg->live_count() == 1u);
  BOOST_TEST(!reg->terminate(a.value().id));  // already ended

  // A terminated run's late end changes nothing.
  BOOST_TEST(reg->terminate(b.value().id));
  BOOST_TEST(runner->terminated.size() == 1u);
  BOOST_TEST((reg->get(b.value().id)->status == session_status::terminated));

  // Restore: the snapshot reaches the runner; a new run id; a stale end of the old run is ignored.
  serialized_session ser;
  ser.session = *reg->get(b.value().id);
  ser.memory_snapshot["k"] = "v";
  auto r = reg->restore(ser);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r.value() == true);
  BOOST_TEST(runner->snapshots.back().has_value());
  BOOST_TEST(runner->snapshots.back()->at("k").as_string() == "v");
  auto restored = reg->get(b.value().id);
  BOOST_TEST((restored->status == session_status::running));
  BOOST_TEST(!restored->ended_at.has_value());
  runner->end(runner->started[1], false);  // the old, terminated run: no handler any more
  BOOST_TEST((reg->get(b.value().id)->status == session_status::running));
  runner->end(runner->started.back(), false);
  BOOST_TEST((reg->get(b.value().id)->status == session_status::failed));
  BOOST_TEST(reg->get(b.value().id)->metrics.errors_encountered == 1.0);

  // A runner failure refuses the session (internal) and leaves no trace.
  runner->fail_next = true;
  auto f = reg->spawn(spawn_req());
  BOOST_TEST_REQUIRE(!f.has_value());
  BOOST_TEST(f.error() == error::internal);
  BOOST_TEST(reg->live_count() == 0u);

  // Unsupported type, empty restored id, closing.
  session_registry_limits only_code;
  only_code.types = {session_type::claude_code};
  auto reg2 = std::make_shared<session_registry>(only_code, make_inproc_runner());
  BOOST_TEST(reg2->spawn(spawn_req(session_type::claude_flow)).error() == error::unsupported_session_type);
  serialized_session empty_id;
  BOOST_TEST(reg2->restore(empty_id).error() == error::invalid_message);
  BOOST_TEST(reg2->spawn(spawn_req()).has_value());
  reg2->close();
  BOOST_TEST(reg2->live_count() == 0u);
  BOOST_TEST(reg2->spawn(spawn_req()).error() == error::shutting_down);
}

BOOST_AUTO_TEST_CASE(registry_under_concurrent_use) {
  session_registry_limits l;
  l.max_live = 50;
  l.max_ended = 20;
  auto reg = std::make_shared<session_registry>(l, make_inproc_runner());
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto s = reg->spawn(spawn_req());
        if (s) {
          (void)reg->get(s.value().id);
          (void)reg->list();
          reg->terminate(s.value().id);
        }
      }
    });
  for (auto& th : pool) th.join();
  BOOST_TEST(reg->live_count() == 0u);
  BOOST_TEST(reg->listed_count() <= 20u);
}

BOOST_AUTO_TEST_CASE(core_answers_without_sockets) {
  daemon_options o;
  o.node_id = "core-node";
  o.max_message_bytes = 2048;
  daemon_core core(o, make_inproc_runner());
  decoder d(decode_options{o.max_message_bytes, max_json_depth});
  auto answer = [&](std::string_view text) { return json::parse(core.handle_text(d, text)).as_object(); };
  auto a = answer(R"({"type":"get_node_info","requestId":"1"})");
  BOOST_TEST(a.at("nodeId").as_string() == "core-node");
  a = answer(R"({"type":"nope","requestId":"2"})");
  BOOST_TEST(a.at("code").as_string() == "unknown_type");
  BOOST_TEST(core.handle_text(d, R"({"type":"heartbeat_ack","timestamp":1})").empty());
  a = json::parse(core.binary_answer()).as_object();
  BOOST_TEST(a.at("code").as_string() == "invalid_message");
  // A requestId too long for any answer within the size limit: no answer at all.
  std::string huge = R"({"type":"get_health","requestId":")" + std::string(2000, 'r') + "\"}";
  BOOST_TEST(core.handle_text(d, huge).empty());
  // A spawn whose echo exceeds the limit: response_too_large, and the session exists.
  std::string big_task = R"({"type":"spawn_session","requestId":"big","request":{"orchestratorId":"o","sessionType":"claude-code","task":{"id":"t","type":"code","description":")" +
                         std::string(1500, 'd') +
                         R"(","priority":"low","status":"pending","createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}}})";
  a = answer(big_task);
  BOOST_TEST(a.at("code").as_string() == "response_too_large");
  BOOST_TEST(core.registry().live_count() == 1u);
  // ...and that error is what a resend gets (recorded, not executed again).
  a = answer(big_task);
  BOOST_TEST(a.at("code").as_string() == "response_too_large");
  BOOST_TEST(core.registry().live_count() == 1u);
  BOOST_TEST(core.counters().replays_served.load() == 1u);
}

BOOST_AUTO_TEST_CASE(option_validation) {
  daemon_options o;
  BOOST_TEST(validate(o).has_value());
  auto bad = [](auto mutate) {
    daemon_options x;
    mutate(x);
    return !validate(x).has_value();
  };
  BOOST_TEST(bad([](daemon_options& x) { x.host.clear(); }));
  BOOST_TEST(bad([](daemon_options& x) { x.heartbeat_interval = milliseconds(0); }));
  BOOST_TEST(bad([](daemon_options& x) { x.heartbeat_timeout = milliseconds(-1); }));
  BOOST_TEST(bad([](daemon_options& x) { x.max_message_bytes = 10; }));
  BOOST_TEST(bad([](daemon_options& x) { x.token = ""; }));
  BOOST_TEST(bad([](daemon_options& x) { x.session_types = {session_type::claude_code, session_type::claude_code}; }));
  BOOST_TEST(bad([](daemon_options& x) { x.runner = runner_kind::process; }));
  BOOST_TEST(bad([](daemon_options& x) { x.exec[session_type::claude_code] = "true"; }));
  BOOST_TEST(bad([](daemon_options& x) { x.max_outbound_bytes_hard = x.max_outbound_bytes - 1; }));
  BOOST_TEST(to_string(runner_kind::process) == "process");
  BOOST_TEST((parse_runner_kind("inproc") == runner_kind::inproc));
  BOOST_TEST(!parse_runner_kind("docker").has_value());
}
