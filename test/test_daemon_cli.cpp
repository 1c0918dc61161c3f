// `neolith daemon` as a process: the listening line, SIGTERM/SIGINT (close 1001, exit 0 within
// 5 s), bad arguments (one line, exit 2), --help, --token-file and the process runner.
#define BOOST_TEST_MODULE daemon_cli
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/daemon_process.hpp"

#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
namespace fs = std::filesystem;
namespace websocket = boost::beast::websocket;
using std::chrono::milliseconds;

namespace {

/// Starts the daemon and returns its port (from the one listening line).
std::uint16_t start_daemon(child_process& p) {
  auto line = p.read_line(milliseconds(10'000));
  BOOST_TEST_REQUIRE(line.has_value(), "no listening line; stderr: " << p.err());
  static const std::regex re(R"(^listening on ws://127\.0\.0\.1:([0-9]+)$)");
  std::smatch m;
  BOOST_TEST_REQUIRE(std::regex_match(*line, m, re), "unexpected line: " << *line);
  return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

int bad_args(const std::vector<std::string>& args) {
  child_process p(neolith_exe(), [&] {
    std::vector<std::string> a{"daemon"};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }());
  auto code = p.wait_exit(milliseconds(5000));
  BOOST_TEST_REQUIRE(code.has_value());
  if (*code == 2) {
    // One line on stderr, nothing on stdout.
    BOOST_TEST(p.out().empty());
    BOOST_TEST(std::count(p.err().begin(), p.err().end(), '\n') == 1, p.err());
  }
  return *code;
}

struct temp_file {
  fs::path path;
  explicit temp_file(const std::string& content) {
    std::string t = (fs::temp_directory_path() / "neolith-cli-test-XXXXXX").string();
    const int fd = ::mkstemp(t.data());
    BOOST_TEST_REQUIRE(fd >= 0);
    ::close(fd);
    path = t;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(listens_serves_and_stops_on_sigterm) {
  child_process p(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--node-id", "cli-node", "--threads", "2",
                                  "--max-sessions", "3", "--session-types", "claude-code",
                                  "--heartbeat-interval-ms", "50"});
  const auto port = start_daemon(p);
  ws_client c;
  BOOST_TEST_REQUIRE(!c.connect(port));
  auto info = c.request(simple_request("get_node_info"), "i");
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(str(*info, "nodeId") == "cli-node");
  const auto& caps = info->at("capabilities").as_object();
  BOOST_TEST(caps.at("maxConcurrentSessions").as_int64() == 3);
  BOOST_TEST(caps.at("supportedSessionTypes").as_array().size() == 1u);
  BOOST_TEST(str(*c.request(spawn_request(), "s"), "type") == "session_spawned");
  auto hb = c.next_matching([](const json::object& o) { return str(o, "type") == "heartbeat"; }, 5s);
  BOOST_TEST(hb.has_value());

  const auto t0 = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  BOOST_TEST(c.wait_closed(5s));
  BOOST_TEST(c.close_reason().code == static_cast<std::uint16_t>(websocket::close_code::going_away));
  auto code = p.wait_exit(milliseconds(5000));
  BOOST_TEST_REQUIRE(code.has_value(), "still running 5 s after SIGTERM");
  BOOST_TEST(*code == 0, p.err());
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < milliseconds(5000)));
  BOOST_TEST(p.out() == "listening on ws://127.0.0.1:" + std::to_string(port) + "\n");  // exactly one line
}

BOOST_AUTO_TEST_CASE(sigint_stops_too_and_the_port_can_be_reused) {
  child_process p(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--quiet"});
  const auto port = start_daemon(p);
  ws_client c;
  BOOST_TEST_REQUIRE(!c.connect(port));
  p.signal(SIGINT);
  auto code = p.wait_exit(milliseconds(5000));
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
  BOOST_TEST(p.err().empty());  // --quiet
  // A new daemon on the same port right away.
  child_process q(neolith_exe(), {"daemon", "--listen", "127.0.0.1:" + std::to_string(port), "--quiet"});
  BOOST_TEST(start_daemon(q) == port);
  q.signal(SIGTERM);
  BOOST_TEST(q.wait_exit(milliseconds(5000)).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(bad_arguments_exit_2) {
  BOOST_TEST(bad_args({"--bogus"}) == 2);
  BOOST_TEST(bad_args({"--listen"}) == 2);
  BOOST_TEST(bad_args({"--listen", "nohostport"}) == 2);
  BOOST_TEST(bad_args({"--listen", "127.0.0.1:99999"}) == 2);
  BOOST_TEST(bad_args({"--listen", ":80"}) == 2);
  BOOST_TEST(bad_args({"--max-sessions", "-1"}) == 2);
  BOOST_TEST(bad_args({"--max-sessions", "ten"}) == 2);
  BOOST_TEST(bad_args({"--session-types", "claude-code,gpt"}) == 2);
  BOOST_TEST(bad_args({"--heartbeat-interval-ms", "0"}) == 2);
  BOOST_TEST(bad_args({"--runner", "docker"}) == 2);
  BOOST_TEST(bad_args({"--exec", "claude-code=true"}) == 2);  // needs --runner process
  BOOST_TEST(bad_args({"--runner", "process"}) == 2);         // no --exec at all... no types
  BOOST_TEST(bad_args({"--runner", "process", "--exec", "claude-code"}) == 2);
  BOOST_TEST(bad_args({"--runner", "process", "--exec", "claude-code=true", "--session-types",
                       "claude-code,claude-flow"}) == 2);
  BOOST_TEST(bad_args({"--token-file", "/nonexistent/token"}) == 2);
  BOOST_TEST(bad_args({"--token-file", "/tmp"}) == 2);  // a directory: a read error, not a crash
  BOOST_TEST(bad_args({"--max-message-bytes", "10"}) == 2);
  BOOST_TEST(bad_args({"--deflate-level", "0"}) == 2);
  BOOST_TEST(bad_args({"--deflate-level", "10"}) == 2);
  BOOST_TEST(bad_args({"--deflate-threshold", "-1"}) == 2);
  BOOST_TEST(bad_args({"--deflate-threshold", "1k"}) == 2);
  BOOST_TEST(bad_args({"--permessage-deflate=yes"}) == 2);
  temp_file empty("\n");
  BOOST_TEST(bad_args({"--token-file", empty.path.string()}) == 2);
}

BOOST_AUTO_TEST_CASE(help_and_listen_failure) {
  child_process h(neolith_exe(), {"daemon", "--help"});
  BOOST_TEST(h.wait_exit(milliseconds(5000)).value_or(-1) == 0);
  for (const char* opt : {"--listen", "--node-id", "--max-sessions", "--session-types", "--token-file",
                          "--heartbeat-interval-ms", "--heartbeat-timeout-ms", "--threads", "--runner", "--exec",
                          "--max-message-bytes"})
    BOOST_TEST(h.out().find(opt) != std::string::npos, opt);

  // A port in use: an operational failure (exit 1), not a usage error.
  child_process first(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--quiet"});
  const auto port = start_daemon(first);
  child_process second(neolith_exe(), {"daemon", "--listen", "127.0.0.1:" + std::to_string(port), "--quiet"});
  // SO_REUSEADDR does not allow two listeners: the second fails.
  BOOST_TEST(second.wait_exit(milliseconds(5000)).value_or(-1) == 1);
  first.signal(SIGTERM);
  BOOST_TEST(first.wait_exit(milliseconds(5000)).value_or(-1) == 0);
}

namespace {

// The daemon at `port` refuses a client without credentials (HTTP 401) and answers one that
// sends `authorization`.
void check_token_required(std::uint16_t port, const std::string& authorization) {
  {
    ws_client c;
    BOOST_TEST(c.connect(port));
    BOOST_TEST(c.http_status() == 401);
  }
  ws_client c;
  ws_connect_options o;
  o.port = port;
  o.authorization = authorization;
  BOOST_TEST_REQUIRE(!c.connect(o));
  BOOST_TEST(c.request(simple_request("get_health"), "h").has_value());
}

}  // namespace

BOOST_AUTO_TEST_CASE(token_file_protects_the_daemon) {
  temp_file token("cli-token-42\n");
  child_process p(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--token-file", token.path.string()});
  check_token_required(start_daemon(p), "bearer cli-token-42");
  p.signal(SIGTERM);
  BOOST_TEST(p.wait_exit(milliseconds(5000)).value_or(-1) == 0);
  BOOST_TEST(p.err().find("cli-token-42") == std::string::npos);  // never logged
}

BOOST_AUTO_TEST_CASE(token_from_stdin) {
  child_process p(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--token-file", "-"}, child_process::pipe_stdin);
  BOOST_TEST_REQUIRE(p.write_stdin("piped-token\n"));
  p.close_stdin();
  check_token_required(start_daemon(p), "Bearer piped-token");
  p.signal(SIGTERM);
  BOOST_TEST(p.wait_exit(milliseconds(5000)).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(process_runner_from_the_command_line) {
  child_process p(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--runner", "process", "--exec",
                                  "claude-code=test \"$NEOLITH_TASK_DESCRIPTION\" = succeed", "--exec",
                                  "claude-flow=exec sleep 30", "--terminate-grace-ms", "200"});
  const auto port = start_daemon(p);
  ws_client c;
  BOOST_TEST_REQUIRE(!c.connect(port));
  auto a = c.request(spawn_request("claude-code", make_task("t", "succeed")), "ok");
  BOOST_TEST_REQUIRE(str(*a, "type") == "session_spawned");
  const std::string id = str(*a, "sessionId");
  auto u = c.next_matching([&](const json::object& o) { return str(o, "type") == "session_updated" && str(o, "sessionId") == id; }, 5s);
  BOOST_TEST_REQUIRE(u.has_value());
  BOOST_TEST(str(u->at("session").as_object(), "status") == "completed");
  auto b = c.request(spawn_request("claude-code", make_task("t2", "other")), "bad");
  const std::string id2 = str(*b, "sessionId");
  auto u2 = c.next_matching([&](const json::object& o) { return str(o, "type") == "session_updated" && str(o, "sessionId") == id2; }, 5s);
  BOOST_TEST_REQUIRE(u2.has_value());
  BOOST_TEST(str(u2->at("session").as_object(), "status") == "failed");
  // A long-running session is ended by the shutdown.
  BOOST_TEST(str(*c.request(spawn_request("claude-flow"), "long"), "type") == "session_spawned");
  p.signal(SIGTERM);
  BOOST_TEST(p.wait_exit(milliseconds(5000)).value_or(-1) == 0);
}
