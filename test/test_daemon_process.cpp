// The process runner: a session is `/bin/sh -c COMMAND` with the task on stdin and its ids in
// the environment; its status follows the process (exit 0: completed, else failed, with a
// session_updated push); terminate sends SIGTERM then SIGKILL after the grace period to the
// whole process group; restore hands over the snapshot file; no zombie is left.
#define BOOST_TEST_MODULE daemon_process
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/wait.hpp"

#include <boost/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <unistd.h>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

// One command for every test; the task description picks the behaviour. Every run records
// its pid, stdin and environment in $NEOLITH_TEST_DIR.
constexpr const char* command = R"(d="$NEOLITH_TEST_DIR"; s="$NEOLITH_SESSION_ID"
echo $$ > "$d/$s.pid.tmp" && mv "$d/$s.pid.tmp" "$d/$s.pid"
env | grep '^NEOLITH_' > "$d/$s.env"
cat > "$d/$s.stdin"
if [ -n "$NEOLITH_MEMORY_SNAPSHOT" ]; then cp "$NEOLITH_MEMORY_SNAPSHOT" "$d/$s.snapshot"; fi
case "$NEOLITH_TASK_DESCRIPTION" in
  succeed) exit 0 ;;
  fail) exit 3 ;;
  stubborn) trap '' TERM; touch "$d/$s.ready"; while :; do sleep 0.05; done ;;
  leave-child) sleep 30 & echo $! > "$d/$s.child"; exit 0 ;;
  with-child) sleep 30 & echo $! > "$d/$s.child"; touch "$d/$s.ready"; wait ;;
  *) touch "$d/$s.ready"; exec sleep 30 ;;
esac)";

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string t = (fs::temp_directory_path() / "neolith-proc-test-XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
    ::setenv("NEOLITH_TEST_DIR", t.c_str(), 1);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// The state letter of /proc/<pid>/stat ('R', 'S', 'Z', ...), or 0 when there is no such process.
// The state letter of /proc/PID/stat, or 0 once the process is gone. Plain read(2): the
// process can be reaped between the open and the read, which then fails with ESRCH, and
// libstdc++'s filebuf throws on a read error whatever the stream's exception mask.
char proc_state(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return 0;
  const std::string stat(buf, static_cast<std::size_t>(n));
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

bool alive(pid_t pid) {
  const char s = proc_state(pid);
  return s != 0 && s != 'Z' && s != 'X';
}

pid_t read_pid(const fs::path& p) {
  pid_t pid = 0;
  BOOST_TEST_REQUIRE(wait_until([&] { return fs::exists(p); }, 5s), "no pid file " << p);
  BOOST_TEST_REQUIRE(wait_until(
      [&] {
        const std::string t = read_file(p);
        pid = static_cast<pid_t>(std::atoi(t.c_str()));
        return pid > 0;
      },
      5s));
  return pid;
}

daemon_options process_options(milliseconds grace = milliseconds(300)) {
  auto o = test_daemon_options();
  o.runner = runner_kind::process;
  o.exec[session_type::claude_code] = command;
  o.exec[session_type::claude_flow] = command;
  o.terminate_grace = grace;
  return o;
}

std::string spawn_with(ws_client& c, std::string_view description, std::string_view rid) {
  auto a = c.request(spawn_request("claude-code", make_task("task-" + std::string(rid), description)), rid);
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST_REQUIRE(str(*a, "type") == "session_spawned", json::serialize(*a));
  return str(*a, "sessionId");
}

std::optional<json::object> update_for(ws_client& c, const std::string& id, std::chrono::milliseconds timeout = 5s) {
  return c.next_matching(
      [&](const json::object& o) { return str(o, "type") == "session_updated" && str(o, "sessionId") == id; },
      timeout);
}

}  // namespace

BOOST_AUTO_TEST_CASE(exit_zero_completes_with_a_push_and_no_zombie) {
  temp_dir dir;
  daemon_fixture d(process_options());
  auto c = d.connect();
  auto watcher = d.connect();  // every client gets the push
  const std::string id = spawn_with(*c, "succeed", "ok");
  auto u = update_for(*c, id);
  BOOST_TEST_REQUIRE(u.has_value());
  const auto& s = u->at("session").as_object();
  BOOST_TEST(str(s, "status") == "completed");
  BOOST_TEST(s.contains("endedAt"));
  BOOST_TEST(s.at("metrics").as_object().at("tasksCompleted").to_number<double>() == 1);
  BOOST_TEST(!u->contains("requestId"));
  BOOST_TEST(update_for(*watcher, id).has_value());

  // The task arrived as JSON on stdin, the ids in the environment.
  const auto task = json::parse(read_file(dir.path / (id + ".stdin")));
  BOOST_TEST(str(task.as_object(), "id") == "task-ok");
  BOOST_TEST(str(task.as_object(), "description") == "succeed");
  const std::string env = read_file(dir.path / (id + ".env"));
  BOOST_TEST(env.find("NEOLITH_SESSION_ID=" + id + "\n") != std::string::npos);
  BOOST_TEST(env.find("NEOLITH_TASK_ID=task-ok\n") != std::string::npos);
  BOOST_TEST(env.find("NEOLITH_TASK_DESCRIPTION=succeed\n") != std::string::npos);
  BOOST_TEST(env.find("NEOLITH_MEMORY_SNAPSHOT") == std::string::npos);

  const pid_t pid = read_pid(dir.path / (id + ".pid"));
  BOOST_TEST(wait_until([&] { return proc_state(pid) == 0; }, 5s), "process " << pid << " left as " << proc_state(pid));
  BOOST_TEST(d.server().stats().active_runs == 0u);
  auto g = c->request(session_request("get_session", id), "g");
  BOOST_TEST(str(g->at("session").as_object(), "status") == "completed");
  BOOST_TEST(d.server().stats().session_updates_sent >= 2u);
}

BOOST_AUTO_TEST_CASE(nonzero_exit_fails) {
  temp_dir dir;
  daemon_fixture d(process_options());
  auto c = d.connect();
  const std::string id = spawn_with(*c, "fail", "bad");
  auto u = update_for(*c, id);
  BOOST_TEST_REQUIRE(u.has_value());
  const auto& s = u->at("session").as_object();
  BOOST_TEST(str(s, "status") == "failed");
  BOOST_TEST(s.at("metrics").as_object().at("errorsEncountered").to_number<double>() == 1);
  const pid_t pid = read_pid(dir.path / (id + ".pid"));
  BOOST_TEST(wait_until([&] { return proc_state(pid) == 0; }, 5s));
  BOOST_TEST(d.server().live_sessions() == 0u);
}

BOOST_AUTO_TEST_CASE(terminate_ends_the_process_and_stays_terminated) {
  temp_dir dir;
  daemon_fixture d(process_options());
  auto c = d.connect();
  const std::string id = spawn_with(*c, "run", "run");
  BOOST_TEST_REQUIRE(wait_until([&] { return fs::exists(dir.path / (id + ".ready")); }, 5s));
  const pid_t pid = read_pid(dir.path / (id + ".pid"));
  BOOST_TEST(alive(pid));
  std::this_thread::sleep_for(milliseconds(30));
  auto t = c->request(session_request("terminate_session", id), "t");
  BOOST_TEST(t->at("success").as_bool() == true);
  BOOST_TEST(wait_until([&] { return proc_state(pid) == 0; }, 5s));
  // The SIGTERM exit is not a failure: no push, still terminated, duration real.
  BOOST_TEST(!update_for(*c, id, milliseconds(100)).has_value());
  auto g = c->request(session_request("get_session", id), "g");
  const auto& s = g->at("session").as_object();
  BOOST_TEST(str(s, "status") == "terminated");
  BOOST_TEST(s.at("metrics").as_object().at("duration").to_number<double>() >= 30);
  BOOST_TEST(wait_until([&] { return d.server().stats().active_runs == 0u; }, 2s));
}

BOOST_AUTO_TEST_CASE(sigterm_ignored_means_sigkill_after_the_grace_period) {
  temp_dir dir;
  const milliseconds grace(400);
  daemon_fixture d(process_options(grace));
  auto c = d.connect();
  const std::string id = spawn_with(*c, "stubborn", "st");
  BOOST_TEST_REQUIRE(wait_until([&] { return fs::exists(dir.path / (id + ".ready")); }, 5s));
  const pid_t pid = read_pid(dir.path / (id + ".pid"));
  const auto t0 = std::chrono::steady_clock::now();
  auto t = c->request(session_request("terminate_session", id), "t");
  BOOST_TEST(t->at("success").as_bool() == true);
  // It ignores SIGTERM: still running well inside the grace period...
  std::this_thread::sleep_for(milliseconds(100));
  BOOST_TEST(alive(pid));
  BOOST_TEST(d.server().stats().active_runs == 1u);
  // ...and killed once it is over.
  BOOST_TEST(wait_until([&] { return proc_state(pid) == 0; }, 5s));
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST((took >= grace - milliseconds(50)));
  BOOST_TEST(wait_until([&] { return d.server().stats().active_runs == 0u; }, 2s));
  auto g = c->request(session_request("get_session", id), "g");
  BOOST_TEST(str(g->at("session").as_object(), "status") == "terminated");
}

BOOST_AUTO_TEST_CASE(the_whole_process_group_goes) {
  temp_dir dir;
  daemon_fixture d(process_options());
  auto c = d.connect();
  // Terminated: the shell's background child goes too.
  const std::string id = spawn_with(*c, "with-child", "wc");
  BOOST_TEST_REQUIRE(wait_until([&] { return fs::exists(dir.path / (id + ".ready")); }, 5s));
  const pid_t child = read_pid(dir.path / (id + ".child"));
  BOOST_TEST(alive(child));
  BOOST_TEST(c->request(session_request("terminate_session", id), "t")->at("success").as_bool());
  BOOST_TEST(wait_until([&] { return !alive(child); }, 5s));

  // Completed with a child left behind: the leftover is killed.
  const std::string id2 = spawn_with(*c, "leave-child", "lc");
  auto u = update_for(*c, id2);
  BOOST_TEST_REQUIRE(u.has_value());
  BOOST_TEST(str(u->at("session").as_object(), "status") == "completed");
  const pid_t orphan = read_pid(dir.path / (id2 + ".child"));
  BOOST_TEST(wait_until([&] { return !alive(orphan); }, 5s));
}

BOOST_AUTO_TEST_CASE(restore_hands_the_snapshot_file_to_the_process) {
  temp_dir dir;
  daemon_fixture d(process_options());
  auto c = d.connect();
  const std::string id = spawn_with(*c, "run", "first");
  BOOST_TEST(c->request(session_request("terminate_session", id), "t")->at("success").as_bool());
  json::object s = c->request(session_request("get_session", id), "g")->at("session").as_object();
  s["task"].as_object()["description"] = "succeed";
  json::object snap;
  snap["scratch"] = "remembered";
  snap["n"] = 42;
  auto r = c->request(restore_request(s, snap), "r");
  BOOST_TEST(r->at("success").as_bool() == true);
  auto u = update_for(*c, id);
  BOOST_TEST_REQUIRE(u.has_value());
  BOOST_TEST(str(u->at("session").as_object(), "status") == "completed");
  const auto copied = json::parse(read_file(dir.path / (id + ".snapshot")));
  BOOST_TEST(copied == json::value(snap));
  const std::string env = read_file(dir.path / (id + ".env"));
  const auto at = env.find("NEOLITH_MEMORY_SNAPSHOT=");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  const std::string path = env.substr(at + 24, env.find('\n', at) - at - 24);
  BOOST_TEST(wait_until([&] { return !fs::exists(path); }, 2s), "snapshot file not removed: " << path);
}

BOOST_AUTO_TEST_CASE(stop_ends_every_process) {
  temp_dir dir;
  daemon_fixture d(process_options(milliseconds(300)));
  auto c = d.connect();
  const std::string a = spawn_with(*c, "run", "a");
  const std::string b = spawn_with(*c, "stubborn", "b");
  BOOST_TEST_REQUIRE(wait_until([&] { return fs::exists(dir.path / (a + ".ready")) && fs::exists(dir.path / (b + ".ready")); }, 5s));
  const pid_t pa = read_pid(dir.path / (a + ".pid"));
  const pid_t pb = read_pid(dir.path / (b + ".pid"));
  BOOST_TEST(d.stop_and_wait(5s));
  BOOST_TEST(proc_state(pa) == 0);
  BOOST_TEST(proc_state(pb) == 0);
  BOOST_TEST(c->wait_closed(2s));
}

BOOST_AUTO_TEST_CASE(process_runner_needs_a_command_per_type) {
  auto o = process_options();
  o.exec.erase(session_type::claude_flow);
  auto v = validate(o);
  BOOST_TEST(!v.has_value());
  o.session_types = {session_type::claude_code};
  BOOST_TEST(validate(o).has_value());
}
