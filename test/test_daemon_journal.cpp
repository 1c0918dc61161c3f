// `neolith daemon --state-dir`: the real executable killed with SIGKILL in the middle of a
// burst of spawns and restarted on the same directory lists every spawn it answered, once;
// live sessions run again with the in-process runner and are `failed` with the process
// runner; ended sessions stay as they were; a torn tail is dropped with a warning and a
// corrupt journal stops the start with a clear error.
#define BOOST_TEST_MODULE daemon_journal
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/daemon_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <unistd.h>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {


/// A daemon process on `dir`; its port from the listening line.
struct daemon_proc {
  child_process p;
  std::uint16_t port = 0;
  daemon_proc(const fs::path& dir, std::vector<std::string> extra = {})
      : p(neolith_exe(), [&] {
          std::vector<std::string> a{"daemon", "--listen", "127.0.0.1:0", "--node-id", "j-node", "--threads", "2",
                                     "--max-sessions", "1000", "--state-dir", dir.string(), "--log-format", "json"};
          a.insert(a.end(), extra.begin(), extra.end());
          return a;
        }()) {
    auto line = p.read_line(milliseconds(20'000));
    BOOST_TEST_REQUIRE(line.has_value(), "no listening line; stderr: " << p.err());
    port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  }
  void kill() {
    p.signal(SIGKILL);
    BOOST_TEST_REQUIRE(p.wait_exit(milliseconds(10'000)).has_value());
  }
};

/// Every listed session: id -> status.
std::map<std::string, std::string> listed(std::uint16_t port) {
  ws_client c;
  BOOST_TEST_REQUIRE(!c.connect(port));
  auto a = c.request(simple_request("get_sessions"), "list", milliseconds(20'000));
  BOOST_TEST_REQUIRE(a.has_value());
  std::map<std::string, std::string> out;
  for (const auto& s : a->at("sessions").as_array()) {
    const auto& o = s.as_object();
    const bool fresh = out.emplace(str(o, "id"), str(o, "status")).second;
    BOOST_TEST(fresh, "listed twice: " << str(o, "id"));
  }
  return out;
}

std::string spawn(ws_client& c, std::string_view id) {
  auto a = c.request(spawn_request(), id, milliseconds(20'000));
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST_REQUIRE(str(*a, "type") == "session_spawned");
  return str(*a, "sessionId");
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_answered_spawn_survives_a_sigkill_mid_burst) {
  temp_dir dir;
  std::set<std::string> answered;
  std::string terminated;
  std::size_t sent = 0;
  {
    daemon_proc d(dir.path);
    ws_client first;
    BOOST_TEST_REQUIRE(!first.connect(d.port));
    terminated = spawn(first, "before");
    BOOST_TEST_REQUIRE(first.request(session_request("terminate_session", terminated), "term").has_value());

    constexpr int clients = 4, per_client = 60;
    std::vector<std::unique_ptr<ws_client>> cs;
    for (int i = 0; i < clients; ++i) {
      cs.push_back(std::make_unique<ws_client>());
      BOOST_TEST_REQUIRE(!cs.back()->connect(d.port));
    }
    for (int n = 0; n < per_client; ++n)
      for (int i = 0; i < clients; ++i) {
        auto req = spawn_request();
        req["requestId"] = "c" + std::to_string(i) + "-" + std::to_string(n);
        if (!cs[static_cast<std::size_t>(i)]->send_json(req)) ++sent;
      }
    // Some answers in, the rest in flight: kill.
    for (int got = 0; got < 20;) {
      auto a = cs[0]->next_answer(milliseconds(20'000));
      BOOST_TEST_REQUIRE(a.has_value());
      if (str(*a, "type") != "session_spawned") continue;
      answered.insert(str(*a, "sessionId"));
      ++got;
    }
    d.kill();
    // Whatever answers reached the clients before the kill count too.
    for (auto& c : cs)
      while (auto a = c->next_answer(milliseconds(200)))
        if (str(*a, "type") == "session_spawned") answered.insert(str(*a, "sessionId"));
  }
  BOOST_TEST_MESSAGE("answered " << answered.size() << " of " << sent << " spawns before the kill");

  daemon_proc again(dir.path);
  const auto sessions = listed(again.port);
  for (const auto& id : answered) {
    BOOST_TEST_REQUIRE(sessions.count(id) == 1u, "answered spawn " << id << " lost");
    BOOST_TEST(sessions.at(id) == "running");  // the in-process runner runs them again
  }
  BOOST_TEST(sessions.at(terminated) == "terminated");
  BOOST_TEST(sessions.size() <= sent + 1);
  // The restarted daemon journals on: a second kill and start lists the same.
  again.kill();
  daemon_proc third(dir.path);
  BOOST_TEST((listed(third.port) == sessions));
}

BOOST_AUTO_TEST_CASE(live_sessions_of_the_process_runner_come_back_failed) {
  temp_dir dir;
  const std::vector<std::string> runner{"--runner", "process", "--exec", "claude-code=exec sleep 10"};
  std::string live, ended;
  {
    daemon_proc d(dir.path, runner);
    ws_client c;
    BOOST_TEST_REQUIRE(!c.connect(d.port));
    live = spawn(c, "a");
    ended = spawn(c, "b");
    BOOST_TEST_REQUIRE(c.request(session_request("terminate_session", ended), "t").has_value());
    d.kill();
  }
  daemon_proc again(dir.path, runner);
  const auto sessions = listed(again.port);
  BOOST_TEST(sessions.at(live) == "failed");
  BOOST_TEST(sessions.at(ended) == "terminated");
  // The log says why.
  again.p.signal(SIGTERM);
  BOOST_TEST_REQUIRE(again.p.wait_exit(milliseconds(10'000)).has_value());
  BOOST_TEST(again.p.err().find("\"status\":\"failed\",\"reason\":\"the daemon restarted") != std::string::npos,
             again.p.err());
}

BOOST_AUTO_TEST_CASE(a_torn_tail_is_dropped_and_a_corrupt_journal_is_refused) {
  temp_dir dir;
  std::string id;
  {
    daemon_proc d(dir.path);
    ws_client c;
    BOOST_TEST_REQUIRE(!c.connect(d.port));
    id = spawn(c, "a");
    d.kill();
  }
  const fs::path file = dir.path / "sessions.journal";
  {
    std::ofstream(file, std::ios::binary | std::ios::app) << std::string("\x40\x00\x00\x00\x01\x02", 6);  // torn
  }
  {
    daemon_proc d(dir.path);
    BOOST_TEST(listed(d.port).count(id) == 1u);
    d.p.signal(SIGTERM);
    BOOST_TEST_REQUIRE(d.p.wait_exit(milliseconds(10'000)).has_value());
    BOOST_TEST(d.p.err().find("a torn last record (6 bytes) dropped") != std::string::npos, d.p.err());
  }
  // Damage inside a record followed by others: the daemon refuses to start, and says why.
  std::string bytes = read_file(file);
  BOOST_TEST_REQUIRE(bytes.size() > 40u);
  bytes[20] ^= 0x01;
  bytes += bytes.substr(8);  // the same records again, after the damaged one
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  child_process p(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--state-dir", dir.path.string()});
  const auto code = p.wait_exit(milliseconds(10'000));
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 1);
  BOOST_TEST(p.err().find("corrupt session journal at byte 8") != std::string::npos, p.err());
  BOOST_TEST(p.out().empty());
}
