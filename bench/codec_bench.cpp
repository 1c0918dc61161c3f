// Codec benchmark: encode and decode of a health_response, a spawn_session request and a
// sessions_response listing 100 sessions. Prints nanoseconds per message and MB/s.
//
//   codec_bench            about two seconds in all
//   codec_bench --quick    well under a second (a smoke run)
//
// No assertion on timings: this measures, it does not judge.
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/parse.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using namespace neolith;

timestamp t0() { return timestamp{std::chrono::milliseconds{1795942077123}}; }

task make_task(int i) {
  task t;
  t.id = "task-" + std::to_string(i);
  t.type = task_type::code;
  t.description = "Refactor the request parser of module " + std::to_string(i) + " and add tests";
  t.priority = task_priority::high;
  t.assigned_to = "agent-7";
  t.status = task_status::in_progress;
  t.created_at = t0();
  t.updated_at = t0() + std::chrono::seconds{i};
  t.metadata = boost::json::parse(R"({"repo":"neolith","labels":["parser","tests"],"estimate":3})").as_object();
  return t;
}

session make_session(int i) {
  session s;
  s.id = "session-" + std::to_string(i);
  s.orchestrator_id = "orchestrator-eu-1";
  s.task = make_task(i);
  s.type = i % 2 ? session_type::claude_flow : session_type::claude_code;
  s.status = session_status::running;
  s.started_at = t0();
  s.memory.scratchpad = boost::json::parse(R"({"step":3,"notes":"looking at the tokenizer"})").as_object();
  for (int k = 0; k < 2; ++k) {
    memory_entry e;
    e.id = "mem-" + std::to_string(i) + "-" + std::to_string(k);
    e.content = "the tokenizer allocates per token";
    e.time = t0() + std::chrono::milliseconds{k};
    e.type = memory_entry_type::observation;
    s.memory.episodic.push_back(e);
  }
  s.metrics = {15234, 60250, 2, 0, 812.5};
  return s;
}

struct workload {
  const char* name;
  message m;
};

struct measurement {
  double ns_per_message;
  double mb_per_s;
};

template <class F>
measurement measure(std::size_t bytes, double seconds, F&& f) {
  // Warm up, then run batches until the time budget is spent.
  for (int i = 0; i < 10; ++i) f();
  std::size_t iterations = 0;
  const auto start = clock_type::now();
  const auto budget = std::chrono::duration<double>(seconds);
  auto now = start;
  while (now - start < budget) {
    for (int i = 0; i < 16; ++i) f();
    iterations += 16;
    now = clock_type::now();
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const double per = elapsed / static_cast<double>(iterations);
  return {per * 1e9, static_cast<double>(bytes) / per / 1e6};
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else {
      std::fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
      return 2;
    }
  }

  node_health h;
  h.status = node_status::healthy;
  h.cpu_usage = 12.5;
  h.memory_usage = 40.25;
  h.active_sessions = 3;
  h.response_time = 4;
  h.last_heartbeat = t0();
  h.uptime = 86400;

  session_spawn_request spawn;
  spawn.orchestrator_id = "orchestrator-eu-1";
  spawn.task = make_task(1);
  spawn.type = session_type::claude_code;
  spawn.memory_profile = "default";
  spawn.priority = task_priority::high;

  msg::sessions_response list;
  list.request_id = "get_sessions_1795942077123_0.5";
  for (int i = 0; i < 100; ++i) list.sessions.push_back(make_session(i));

  const std::vector<workload> workloads{
      {"health_response", msg::health_response{"get_health_1795942077123_0.5", h}},
      {"spawn_session", msg::spawn_session{"spawn_session_1795942077123_0.5", spawn}},
      {"sessions_response(100)", list},
  };

  // Six measurements: ~2 s in all by default, ~0.15 s with --quick.
  const double seconds = quick ? 0.025 : 0.33;
  std::printf("%-24s %8s %14s %10s %14s %10s\n", "message", "bytes", "encode ns/msg", "MB/s", "decode ns/msg", "MB/s");
  decoder d;
  std::string out;
  for (const auto& w : workloads) {
    const std::string text = encode(w.m);
    // Sanity: what we time must be a working round trip.
    auto check = d.decode(text);
    if (!check || !(check.value() == w.m)) {
      std::fprintf(stderr, "%s: round trip failed\n", w.name);
      return 1;
    }
    const auto enc = measure(text.size(), seconds, [&] {
      out.clear();
      encode(w.m, out);
    });
    std::size_t sink = 0;
    const auto dec = measure(text.size(), seconds, [&] {
      auto r = d.decode(text);
      sink += r.has_value() ? 1 : 0;
    });
    std::printf("%-24s %8zu %14.0f %10.1f %14.0f %10.1f\n", w.name, text.size(), enc.ns_per_message, enc.mb_per_s,
                dec.ns_per_message, dec.mb_per_s);
    if (sink == 0) return 1;
  }
  return 0;
}
