#include "demo_scenario.hpp"

#include <neolith/core/version.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

namespace neolith::cli::demo {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using align = text_table::align;

namespace {

constexpr std::chrono::milliseconds daemon_heartbeat{200};

double ms_since(scenario::clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(scenario::clock::now() - t0).count();
}

std::string url_of(std::uint16_t port) { return node_endpoint::ws("127.0.0.1", port).url(); }

/// The options of the demo's daemons: quick heartbeats and health samples, silent.
daemon_options daemon_options_for(const std::string& id) {
  daemon_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.node_id = id;
  o.max_sessions = 16;
  o.heartbeat_interval = daemon_heartbeat;
  o.heartbeat_timeout = 2000ms;
  o.health_sample_interval = 200ms;
  o.handshake_timeout = 2000ms;
  o.close_timeout = 300ms;
  o.threads = 2;
  return o;
}

/// The options of the demo's nodes: every interval in milliseconds, no jitter so the backoff
/// doubling shows plainly.
node_options node_options_for_demo() {
  node_options o;
  o.connect_timeout = 1000ms;
  o.request_timeout = 3000ms;
  o.health_timeout = 1000ms;
  o.heartbeat_interval = 200ms;
  o.heartbeat_timeout = 2000ms;
  o.backoff_base = 100ms;
  o.backoff_max = 1600ms;
  o.max_attempts = 8;
  o.jitter = 0.0;
  o.queue_max = 64;
  return o;
}

std::string join_types(const std::vector<session_type>& types) {
  std::string s;
  for (auto t : types) {
    if (!s.empty()) s += ", ";
    s += to_string(t);
  }
  return s;
}

session_spawn_request make_request(std::string task_id, task_type tt, std::string description, task_priority p,
                                   session_type st) {
  session_spawn_request r;
  r.orchestrator_id = "demo-orchestrator";
  r.type = st;
  r.priority = p;
  r.task.id = std::move(task_id);
  r.task.type = tt;
  r.task.description = std::move(description);
  r.task.priority = p;
  r.task.status = task_status::pending;
  r.task.created_at = now_timestamp();
  r.task.updated_at = r.task.created_at;
  return r;
}

/// The work the demo spreads over the cluster.
std::vector<session_spawn_request> demo_requests() {
  std::vector<session_spawn_request> v;
  v.push_back(make_request("t-101", task_type::code, "refactor the parser", task_priority::high,
                           session_type::claude_code));
  v.push_back(make_request("t-102", task_type::research, "compare compression settings",
                           task_priority::medium, session_type::claude_flow));
  v.push_back(make_request("t-103", task_type::analysis, "profile the registry", task_priority::medium,
                           session_type::claude_code));
  v.push_back(make_request("t-104", task_type::code, "write reconnect tests", task_priority::high,
                           session_type::claude_flow));
  v.push_back(make_request("t-105", task_type::general, "summarise open issues", task_priority::low,
                           session_type::claude_code));
  v.push_back(make_request("t-106", task_type::custom, "draft release notes", task_priority::low,
                           session_type::claude_flow));
  return v;
}

std::string age_of(const session& s) { return strf("%.0f ms", s.metrics.duration); }

}  // namespace

// ----- Events -------------------------------------------------------------------------------

/// What the nodes told: counted by node and event name, and printed as they come.
struct event_log {
  event_log(printer p, scenario::clock::time_point start) : out(p), t0(start) {}

  printer out;
  scenario::clock::time_point t0;
  std::map<std::string, std::map<std::string, int, std::less<>>, std::less<>> counts;

  int count(std::string_view node, std::string_view name) const {
    auto n = counts.find(node);
    if (n == counts.end()) return 0;
    auto e = n->second.find(name);
    return e == n->second.end() ? 0 : e->second;
  }

  void record(const std::string& node, const node_event& e) {
    const std::string_view name = event_name(e);
    ++counts[node][std::string(name)];
    std::string detail;
    if (const auto* c = std::get_if<event::connecting>(&e)) {
      if (c->attempt > 0) detail = strf("attempt %d", c->attempt);
    } else if (const auto* d = std::get_if<event::disconnected>(&e)) {
      detail = d->reason.what();
    } else if (const auto* r = std::get_if<event::reconnecting>(&e)) {
      detail = strf("attempt %d in %lld ms", r->attempt, static_cast<long long>(r->delay.count()));
    } else if (const auto* f = std::get_if<event::reconnect_failed>(&e)) {
      detail = strf("after %d attempts", f->attempts);
    } else if (std::holds_alternative<event::session_spawned>(e) ||
               std::holds_alternative<event::session_terminated>(e)) {
      return;  // counted; the steps show these in their tables
    } else if (const auto* s = std::get_if<event::session_restored>(&e)) {
      detail = s->session_id;
    } else if (const auto* x = std::get_if<event::error>(&e)) {
      detail = x->error.what();
    } else if (const auto* m = std::get_if<event::message>(&e)) {
      detail = std::string(m->type_name());
    }
    std::string line = strf("  [+%.3fs] %-7s %-17s %s", ms_since(t0) / 1000.0, node.c_str(), std::string(name).c_str(),
                            detail.c_str());
    while (line.back() == ' ') line.pop_back();
    out.line("%s", line.c_str());
  }
};

namespace {

/// Prints a node's events until the node is destroyed.
asio::awaitable<void> print_events(event_subscription sub, std::string node, std::shared_ptr<event_log> log) {
  for (;;) {
    auto e = co_await sub.receive();
    if (!e) co_return;
    log->record(node, e.value());
  }
}

/// A request made while its node was down.
struct queued_call {
  std::string operation;
  scenario::clock::time_point issued = scenario::clock::now();
  bool done = false;
  bool ok = false;
  std::string outcome;  ///< what it answered, or its error
  double waited_ms = 0;
};

std::string describe(const session& s) { return "session " + s.id + " " + std::string(to_string(s.status)); }
std::string describe(const std::vector<session>& v) { return strf("%zu session(s) listed", v.size()); }
std::string describe(const msg::node_info& i) { return "node " + i.node_id + ", protocol " + std::to_string(i.protocol); }

template <class T>
asio::awaitable<void> await_queued(asio::awaitable<result<T>> op, std::shared_ptr<queued_call> c, printer out) {
  auto r = co_await std::move(op);
  c->waited_ms = ms_since(c->issued);
  c->ok = r.has_value();
  c->outcome = r ? describe(r.value()) : "failed: " + r.error().what();
  c->done = true;
  out.line("  completed %-14s after %4.0f ms -> %s", c->operation.c_str(), c->waited_ms, c->outcome.c_str());
}

}  // namespace

// ----- scenario -----------------------------------------------------------------------------

scenario::scenario(asio::io_context& client, cluster& daemons, printer out, scenario_options opts)
    : client_(client), daemons_(daemons), out_(out), opts_(opts), events_(std::make_shared<event_log>(out, started_)) {}

scenario::~scenario() { close_nodes(); }

void scenario::close_nodes() { nodes_.clear(); }

void scenario::begin(std::string step) { step_ = std::move(step); }

void scenario::fail(std::string_view what) { throw step_failed(step_ + ": " + std::string(what)); }

template <class T>
T scenario::require(result<T> r, std::string_view what) {
  if (!r) fail(std::string(what) + ": " + r.error().what());
  return std::move(r).value();
}

void scenario::require(result<void> r, std::string_view what) {
  if (!r) fail(std::string(what) + ": " + r.error().what());
}

template <class T>
asio::awaitable<T> scenario::timed(std::string_view operation, asio::awaitable<T> a) {
  const auto t0 = clock::now();
  T r = co_await std::move(a);
  latency_.add(operation, clock::now() - t0);
  co_return r;
}

asio::awaitable<void> scenario::wait_for(const std::function<bool()>& pred, const std::string& what) {
  asio::steady_timer timer(client_);
  const auto deadline = clock::now() + opts_.wait_limit;
  while (!pred()) {
    if (clock::now() >= deadline)
      fail(strf("no %s within %lld ms", what.c_str(), static_cast<long long>(opts_.wait_limit.count())));
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<void> scenario::run() {
  co_await start_cluster();
  co_await spawn_across_nodes();
  co_await list_sessions();
  co_await read_health();
  co_await outage_and_reconnect();
  co_await restore_on_another_node();
  co_await latency_burst();
  co_await teardown();
  print_summary();
}

// 1. Three daemons, one node each, connected.
asio::awaitable<void> scenario::start_cluster() {
  begin("start the daemons");
  out_.section("1. Cluster: three daemons on 127.0.0.1, one daemon_node each");
  text_table daemons({{"node", align::left}, {"endpoint", align::left}, {"runner", align::left},
                      {"max sessions", align::right}, {"heartbeat", align::right}});
  for (const char* id : {"node-a", "node-b", "node-c"}) {
    const auto o = daemon_options_for(id);
    const std::size_t i = require(daemons_.add(o), std::string("start the daemon of ") + id);
    daemons.row({id, url_of(daemons_.port(i)), "inproc", std::to_string(o.max_sessions),
                 strf("%lld ms", static_cast<long long>(o.heartbeat_interval.count()))});
  }
  out_.line("  daemons (daemon_server, port 0: the system picks one; their own io_context and 2 threads):");
  out_.text(daemons.render(4));

  begin("connect the nodes");
  const auto nopts = node_options_for_demo();
  out_.line("  nodes (daemon_node on the client's io_context; heartbeat %lld ms, backoff %lld ms doubling up to %lld ms):",
            static_cast<long long>(nopts.heartbeat_interval.count()), static_cast<long long>(nopts.backoff_base.count()),
            static_cast<long long>(nopts.backoff_max.count()));
  for (std::size_t i = 0; i < daemons_.size(); ++i) {
    node_slot s;
    s.id = daemons_.node_id(i);
    // No capabilities given: the node learns them from the daemon's node_info.
    s.node = std::make_unique<daemon_node>(client_.get_executor(), s.id, node_endpoint::ws("127.0.0.1", daemons_.port(i)),
                                           std::nullopt, nopts);
    asio::co_spawn(client_, print_events(s.node->subscribe(), s.id, events_), asio::detached);
    nodes_.push_back(std::move(s));
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = co_await timed("connect", node(i).connect());
    require(std::move(r), "connect to " + node_id(i));
  }
  co_await wait_for_events();

  begin("read the nodes' info");
  text_table info({{"node", align::left}, {"nodeId", align::left}, {"version", align::left}, {"protocol", align::right},
                   {"session types", align::left}, {"max sessions", align::right}});
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = co_await timed("get_node_info", node(i).get_node_info());
    const auto ni = require(std::move(r), "get_node_info from " + node_id(i));
    if (!node(i).capabilities_known()) fail(node_id(i) + " did not adopt the capabilities of its daemon");
    info.row({node_id(i), ni.node_id, ni.version, std::to_string(ni.protocol),
              join_types(ni.capabilities.supported_session_types), std::to_string(ni.capabilities.max_concurrent_sessions)});
  }
  out_.line("  get_node_info (capabilities learned from the daemons, not configured):");
  out_.text(info.render(4));
}

// 2. Sessions spread round-robin over the three nodes.
asio::awaitable<void> scenario::spawn_across_nodes() {
  begin("spawn sessions");
  out_.section("2. Spawn sessions across the nodes");
  text_table t({{"node", align::left}, {"session", align::left}, {"type", align::left}, {"task", align::left},
                {"description", align::left}, {"status", align::left}});
  std::vector<std::size_t> per_node(nodes_.size(), 0);
  auto requests = demo_requests();
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const std::size_t i = k % nodes_.size();
    const auto task_id = requests[k].task.id;
    auto r = co_await timed("spawn_session", node(i).spawn_session(std::move(requests[k])));
    const session s = require(std::move(r), "spawn_session " + task_id + " on " + node_id(i));
    if (s.task.id != task_id) fail("the session spawned for " + task_id + " carries task " + s.task.id);
    spawned_ids_.push_back(s.id);
    spawned_on_.push_back(i);
    ++per_node[i];
    ++spawned_;
    t.row({node_id(i), s.id, std::string(to_string(s.type)), s.task.id, s.task.description,
           std::string(to_string(s.status))});
  }
  out_.text(t.render(2));
  std::string counts;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (per_node[i] == 0) fail("no session was spawned on " + node_id(i));
    counts += strf("%s%s: %zu", i ? ", " : "", node_id(i).c_str(), per_node[i]);
  }
  out_.line("  spawned %zu sessions on %zu nodes (%s)", spawned_, nodes_.size(), counts.c_str());
  co_return;
}

// 3. What each daemon lists.
asio::awaitable<void> scenario::list_sessions() {
  begin("list the sessions");
  out_.section("3. List the sessions of every node (get_sessions)");
  text_table t({{"node", align::left}, {"session", align::left}, {"type", align::left}, {"status", align::left},
                {"task", align::left}, {"running for", align::right}});
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = co_await timed("get_sessions", node(i).get_sessions());
    const auto list = require(std::move(r), "get_sessions from " + node_id(i));
    const std::size_t expected =
        static_cast<std::size_t>(std::count(spawned_on_.begin(), spawned_on_.end(), i));
    if (list.size() != expected)
      fail(strf("%s lists %zu sessions, %zu were spawned there", node_id(i).c_str(), list.size(), expected));
    for (const auto& s : list)
      t.row({node_id(i), s.id, std::string(to_string(s.type)), std::string(to_string(s.status)), s.task.id, age_of(s)});
  }
  out_.text(t.render(2));
}

// 4. Health, as each daemon measures it.
asio::awaitable<void> scenario::read_health() {
  begin("read the health");
  out_.section("4. Health (get_health)");
  text_table t({{"node", align::left}, {"status", align::left}, {"cpu %", align::right}, {"memory %", align::right},
                {"sessions", align::right}, {"response ms", align::right}, {"uptime s", align::right},
                {"last heartbeat", align::left}});
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = co_await timed("get_health", node(i).get_health());
    const auto h = require(std::move(r), "get_health from " + node_id(i));
    if (h.status == node_status::offline) fail(node_id(i) + " reports offline while connected");
    t.row({node_id(i), std::string(to_string(h.status)), strf("%.1f", h.cpu_usage), strf("%.1f", h.memory_usage),
           std::to_string(h.active_sessions), strf("%.2f", h.response_time), strf("%.0f", h.uptime),
           format_timestamp(h.last_heartbeat)});
  }
  out_.text(t.render(2));
  out_.line("  (cpu and memory are the machine's; the daemons also push their health every %lld ms)",
            static_cast<long long>(daemon_heartbeat.count()));
}

// 5. One daemon stops; requests made meanwhile wait in the node's queue and go out once it is
//    back on the same port.
asio::awaitable<void> scenario::outage_and_reconnect() {
  constexpr std::size_t b = 1;
  const std::string& id = node_id(b);
  begin("stop the daemon of " + id);
  out_.section("5. Outage: the daemon of " + id + " stops and starts again");
  const auto before = node(b).statistics();
  const int reconnects_before = events_->count(id, "reconnecting");
  out_.line("  stopping the daemon of %s (graceful: connections closed with 1001, its sessions end)", id.c_str());
  const auto down_at = clock::now();
  daemons_.begin_stop(b);
  const std::function<bool()> daemon_stopped = [this] { return daemons_.stopped(b); };
  const std::string stop_what = "stop of the daemon of " + id;
  co_await wait_for(daemon_stopped, stop_what);
  const std::function<bool()> node_noticed = [this] { return node(b).state() != connection_state::connected; };
  const std::string loss_what = "loss of the connection noticed by " + id;
  co_await wait_for(node_noticed, loss_what);
  co_await wait_for_events();

  begin("make requests while " + id + " is down");
  out_.line("  while it is down (state: %s):", std::string(to_string(node(b).state())).c_str());
  {
    auto r = co_await node(b).get_health();
    const auto h = require(std::move(r), "get_health from " + id + " while down");
    out_.line("  answered  %-14s at once       -> %s (no request is sent while not connected)", "get_health",
              std::string(to_string(h.status)).c_str());
  }
  std::vector<std::shared_ptr<queued_call>> calls;
  const auto queue = [&](std::string op) {
    auto c = std::make_shared<queued_call>();
    c->operation = std::move(op);
    calls.push_back(c);
    out_.line("  queued    %s", c->operation.c_str());
    return c;
  };
  // Deadlines long enough to cover the outage.
  const daemon_node::deadline patient = std::chrono::milliseconds(opts_.wait_limit);
  {
    auto c = queue("spawn_session");
    auto op = node(b).spawn_session(
        make_request("t-107", task_type::code, "requested while the node was down", task_priority::medium,
                     session_type::claude_code),
        patient);
    asio::co_spawn(client_, await_queued(std::move(op), c, out_), asio::detached);
  }
  {
    auto c = queue("get_sessions");
    auto op = node(b).get_sessions(patient);
    asio::co_spawn(client_, await_queued(std::move(op), c, out_), asio::detached);
  }
  {
    auto c = queue("get_node_info");
    auto op = node(b).get_node_info(patient);
    asio::co_spawn(client_, await_queued(std::move(op), c, out_), asio::detached);
  }

  begin("let " + id + " retry");
  const int attempts = reconnects_before + opts_.outage_attempts;
  const std::function<bool()> retried = [this, attempts, &id] { return events_->count(id, "reconnecting") >= attempts; };
  const std::string retry_what = strf("reconnection attempt %d of %s", opts_.outage_attempts, id.c_str());
  co_await wait_for(retried, retry_what);
  for (const auto& c : calls)
    if (c->done) fail(c->operation + " completed while the daemon was down: " + c->outcome);

  begin("restart the daemon of " + id);
  out_.line("  restarting the daemon of %s on port %u (a new daemon_server)", id.c_str(),
            static_cast<unsigned>(daemons_.port(b)));
  require(daemons_.restart(b), "restart the daemon of " + id + " on port " + std::to_string(daemons_.port(b)));

  begin("complete the queued requests of " + id);
  const std::function<bool()> all_done = [&calls] {
    return std::all_of(calls.begin(), calls.end(), [](const auto& c) { return c->done; });
  };
  const std::string done_what = "answer to every queued request";
  co_await wait_for(all_done, done_what);
  for (const auto& c : calls)
    if (!c->ok) fail("the queued " + c->operation + " " + c->outcome);
  if (node(b).state() != connection_state::connected) fail(id + " is not connected after the restart");
  outage_ms_ = ms_since(down_at);
  queued_completed_ = calls.size();
  ++spawned_;
  co_await wait_for_events();

  const auto after = node(b).statistics();
  out_.line("  %s: %llu connection lost, %llu reconnected, %zu queued requests answered after %.0f ms down",
            id.c_str(), static_cast<unsigned long long>(after.connection_losses - before.connection_losses),
            static_cast<unsigned long long>(after.connections - before.connections), calls.size(), outage_ms_);
  out_.line("  (the restarted daemon starts empty: the sessions %s had ended with the old one)", id.c_str());
}

// 6. A session of node A serialized with its memory and restored on node C.
asio::awaitable<void> scenario::restore_on_another_node() {
  constexpr std::size_t a = 0;
  constexpr std::size_t c = 2;
  begin("restore a session on another node");
  out_.section("6. Restore a session on another node (" + node_id(a) + " -> " + node_id(c) + ")");
  const auto it = std::find(spawned_on_.begin(), spawned_on_.end(), a);
  if (it == spawned_on_.end()) fail("no session of " + node_id(a) + " to move");
  const std::string sid = spawned_ids_[static_cast<std::size_t>(it - spawned_on_.begin())];

  auto got_r = co_await timed("get_session", node(a).get_session(sid));
  const auto got = require(std::move(got_r), "get_session " + sid + " from " + node_id(a));
  if (!got) fail(node_id(a) + " does not know session " + sid);
  out_.line("  get_session       on %s -> %s, %s, task %s", node_id(a).c_str(), sid.c_str(),
            std::string(to_string(got->status)).c_str(), got->task.id.c_str());

  // The orchestrator's record of the session's memory travels with it.
  serialized_session ser;
  ser.session = *got;
  ser.session.memory.scratchpad["progress"] = "parser split into lexer and reader; tests pending";
  memory_entry entry;
  entry.id = "m-1";
  entry.content = "checkpoint before moving from " + node_id(a) + " to " + node_id(c);
  entry.time = now_timestamp();
  entry.type = memory_entry_type::decision;
  ser.session.memory.episodic.push_back(entry);
  ser.memory_snapshot["memoryContext"] = boost::json::value_from(ser.session.memory);
  ser.memory_snapshot["checkpoint"] = 1;
  ser.metadata.serialized_at = now_timestamp();
  ser.metadata.node_id = node_id(a);
  ser.metadata.version = version_string;
  const std::size_t snapshot_bytes = boost::json::serialize(ser.memory_snapshot).size();
  out_.line("  serialized        %s from %s with its memory:", sid.c_str(), node_id(a).c_str());
  out_.line("                    1 episodic entry, scratchpad 'progress', memorySnapshot of %zu bytes", snapshot_bytes);

  auto restored_r = co_await timed("restore_session", node(c).restore_session(ser));
  const bool restored = require(std::move(restored_r), "restore_session " + sid + " on " + node_id(c));
  if (!restored) fail(node_id(c) + " refused the restore: a live session " + sid + " exists there");
  out_.line("  restore_session   on %s -> success", node_id(c).c_str());

  auto there_r = co_await timed("get_session", node(c).get_session(sid));
  const auto there = require(std::move(there_r), "get_session " + sid + " from " + node_id(c));
  if (!there) fail(node_id(c) + " does not know the restored session " + sid);
  if (there->status != session_status::running)
    fail("the restored session is " + std::string(to_string(there->status)) + " on " + node_id(c));
  if (there->memory != ser.session.memory) fail("the restored session's memory differs from the snapshot");
  out_.line("  get_session       on %s -> %s, %s, task %s", node_id(c).c_str(), sid.c_str(),
            std::string(to_string(there->status)).c_str(), there->task.id.c_str());
  out_.line("                    memory: '%s'", there->memory.episodic.front().content.c_str());
  out_.line("  restored on %s: same id, same task, memory kept", node_id(c).c_str());

  auto term_r = co_await timed("terminate_session", node(a).terminate_session(sid));
  const bool ended = require(std::move(term_r), "terminate_session " + sid + " on " + node_id(a));
  if (!ended) fail(node_id(a) + " had no live session " + sid + " to end");
  ++terminated_;
  auto old_r = co_await timed("get_session", node(a).get_session(sid));
  const auto old = require(std::move(old_r), "get_session " + sid + " from " + node_id(a));
  out_.line("  terminate_session on %s -> the old copy is %s", node_id(a).c_str(),
            old ? std::string(to_string(old->status)).c_str() : "gone");
  ++restored_;
  co_await wait_for_events();
}

// 7. Many quick reads, one at a time, so the percentiles mean something.
asio::awaitable<void> scenario::latency_burst() {
  begin("latency burst");
  out_.section("7. Latency burst (get_health and get_session, one at a time)");
  std::vector<std::string> live(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = co_await timed("get_sessions", node(i).get_sessions());
    const auto list = require(std::move(r), "get_sessions from " + node_id(i));
    for (const auto& s : list)
      if (!is_ended(s.status)) {
        live[i] = s.id;
        break;
      }
    if (live[i].empty()) fail(node_id(i) + " has no live session to read");
  }
  const auto t0 = clock::now();
  std::size_t rounds = 0;
  for (; rounds < opts_.latency_calls; ++rounds) {
    if (clock::now() - t0 >= opts_.burst_budget) break;
    const std::size_t i = rounds % nodes_.size();
    auto h_r = co_await timed("get_health", node(i).get_health());
    const auto h = require(std::move(h_r), "get_health from " + node_id(i));
    if (h.status == node_status::offline) fail(node_id(i) + " went offline");
    auto s_r = co_await timed("get_session", node(i).get_session(live[i]));
    const auto s = require(std::move(s_r), "get_session from " + node_id(i));
    if (!s) fail(node_id(i) + " lost session " + live[i]);
  }
  out_.line("  %zu get_health + %zu get_session calls, round-robin over %zu nodes, in %.2f s", rounds, rounds,
            nodes_.size(), ms_since(t0) / 1000.0);
  if (rounds < opts_.latency_calls)
    out_.line("  (stopped before %zu each: the burst's time budget of %lld ms ran out; this machine is slow or busy)",
              opts_.latency_calls, static_cast<long long>(opts_.burst_budget.count()));
}

// 8. Everything ends: sessions, connections, daemons.
asio::awaitable<void> scenario::teardown() {
  begin("terminate the sessions");
  out_.section("8. Teardown");
  std::size_t ended = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = co_await timed("get_sessions", node(i).get_sessions());
    const auto list = require(std::move(r), "get_sessions from " + node_id(i));
    for (const auto& s : list) {
      if (is_ended(s.status)) continue;
      auto t = co_await timed("terminate_session", node(i).terminate_session(s.id));
      if (!require(std::move(t), "terminate_session " + s.id + " on " + node_id(i)))
        fail(node_id(i) + " did not end its live session " + s.id);
      ++ended;
    }
  }
  terminated_ += ended;
  out_.line("  terminated %zu live sessions", ended);

  begin("disconnect the nodes");
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = co_await node(i).disconnect();
    require(std::move(r), "disconnect " + node_id(i));
  }
  co_await wait_for_events();
  out_.line("  disconnected %zu nodes", nodes_.size());

  begin("stop the daemons");
  for (std::size_t i = 0; i < daemons_.size(); ++i) daemons_.begin_stop(i);
  const std::function<bool()> all_stopped = [this] {
    bool all = true;
    for (std::size_t i = 0; i < daemons_.size(); ++i) all = daemons_.stopped(i) && all;
    return all;
  };
  const std::string stopped_what = "stop of every daemon";
  co_await wait_for(all_stopped, stopped_what);
  out_.line("  stopped %zu daemons", daemons_.size());
}

void scenario::print_summary() {
  begin("summary");
  out_.summary_section("Latency summary (steady_clock around each call, milliseconds)");
  out_.summary_text(latency_.table().render(2));
  out_.summary_text(strf("  demo completed in %.2f s: %zu daemons, %zu sessions spawned, %zu restored on another node,\n"
                         "  %zu requests queued during a %.0f ms outage and answered after the reconnect, %zu terminated\n",
                         ms_since(started_) / 1000.0, daemons_.size(), spawned_, restored_, queued_completed_,
                         outage_ms_, terminated_));
}

asio::awaitable<void> scenario::wait_for_events() {
  // Events reach the printers through posted completions: a few turns of the client's
  // io_context let them print before the next line of the step.
  for (int i = 0; i < 4; ++i) co_await asio::post(client_, asio::use_awaitable);
}

}  // namespace neolith::cli::demo
