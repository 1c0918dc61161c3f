// `neolith node` as a process (NEOLITH_EXE) against a daemon run in this test: the one-shot
// commands (JSON on stdout, exit codes 0/1/2), and the JSON-lines mode (every op, concurrency,
// malformed lines, events, error codes, queue_full, end of input).
#define BOOST_TEST_MODULE cli_node
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/daemon_process.hpp"
#include "support/node_env.hpp"

#include <neolith/protocol/json.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include <unistd.h>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

std::string url_of(std::uint16_t port) { return "ws://127.0.0.1:" + std::to_string(port); }

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
std::uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  return port;
}

struct temp_file {
  fs::path path;
  explicit temp_file(const std::string& content) {
    std::string t = (fs::temp_directory_path() / "neolith-node-test-XXXXXX").string();
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
  std::string str() const { return path.string(); }
};

struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs `neolith node ARGS` with `input` on stdin; the test fails if it has not exited within
/// `limit`.
run_result run_node(const std::vector<std::string>& args, const std::string& input = "",
                    milliseconds limit = milliseconds(10'000)) {
  std::vector<std::string> a{"node"};
  a.insert(a.end(), args.begin(), args.end());
  child_process p(neolith_exe(), a, child_process::pipe_stdin);
  if (!input.empty()) BOOST_TEST_REQUIRE(p.write_stdin(input));
  p.close_stdin();
  auto code = p.wait_exit(limit);
  BOOST_TEST_REQUIRE(code.has_value(), "neolith node did not exit within the limit; stderr: " << p.err());
  return {*code, p.out(), p.err()};
}

/// Fast timings for a daemon that is up.
std::vector<std::string> with_fast(std::vector<std::string> args) {
  for (const char* o : {"--connect-timeout-ms=2000", "--request-timeout-ms=5000", "--backoff-base-ms=20",
                        "--backoff-max-ms=50"})
    args.emplace_back(o);
  return args;
}

/// Whether `text` (JSON) writes a number in exponent form (Boost.JSON's serializer writes
/// every double so: 1.136E1, 0E0); the CLI writes numbers as the wire does.
bool has_exponent_number(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if ((c == 'e' || c == 'E') && i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9') {
      return true;
    }
  }
  return false;
}

json::value parse(const std::string& text) {
  BOOST_TEST(!has_exponent_number(text), "a number in exponent form: " << text);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  BOOST_TEST_REQUIRE(!ec, "not JSON: '" << text << "': " << ec.message());
  return v;
}

/// `neolith node ARGS` that must succeed: its stdout, one line of JSON.
json::value ok_json(const std::vector<std::string>& args, const std::string& input = "") {
  const run_result r = run_node(with_fast(args), input);
  BOOST_TEST_REQUIRE(r.code == 0, "exit " << r.code << "; stderr: " << r.err);
  BOOST_TEST(r.err.empty(), r.err);
  BOOST_TEST_REQUIRE(std::count(r.out.begin(), r.out.end(), '\n') == 1, r.out);
  BOOST_TEST(r.out.back() == '\n');
  return parse(r.out);
}

/// `neolith node ARGS` that must fail with `code` and one line on stderr, nothing on stdout.
std::string failing(const std::vector<std::string>& args, int code, const std::string& input = "") {
  const run_result r = run_node(args, input);
  BOOST_TEST(r.code == code, "args: " << [&] {
    std::string s;
    for (const auto& x : args) s += x + " ";
    return s;
  }() << "stderr: " << r.err);
  BOOST_TEST(r.out.empty(), r.out);
  BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  BOOST_TEST(r.err.starts_with("neolith node: "), r.err);
  return r.err;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

json::object serialized_of(const json::object& session) {
  return restore_request(session).at("serializedSession").as_object();
}

std::string line_of(const json::object& o) { return json::serialize(o) + "\n"; }

json::object request_line(const json::value& id, std::string_view op) {
  json::object o;
  o["id"] = id;
  o["op"] = op;
  return o;
}

/// A `neolith node URL --jsonl` process, read line by line.
class jsonl_process {
 public:
  explicit jsonl_process(std::vector<std::string> args) : p_(neolith_exe(), make_args(std::move(args)), child_process::pipe_stdin) {}

  void send(const std::string& lines) { BOOST_TEST_REQUIRE(p_.write_stdin(lines)); }
  void send(const json::object& o) { send(line_of(o)); }

  /// The next output line (parsed), or the test fails after `limit`.
  json::object next(milliseconds limit = milliseconds(10'000)) {
    auto line = p_.read_line(limit);
    BOOST_TEST_REQUIRE(line.has_value(), "no output line within the limit; stderr: " << p_.err());
    return record(*line);
  }

  /// Reads until the result of `id` (keeping the lines read on the way).
  json::object result(const json::value& id, milliseconds limit = milliseconds(10'000)) {
    if (auto it = find_result(id); it) return *it;
    const auto deadline = clock_type::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
      BOOST_TEST_REQUIRE(left.count() > 0, "no result for id " << json::serialize(id) << "; stderr: " << p_.err());
      json::object o = next(left);
      if (o.contains("id") && o.at("id") == id) return o;
    }
  }

  /// Reads until an event named `name` that satisfies `pred` comes (after `from`, an index
  /// into lines()).
  json::object event(std::string_view name, std::size_t from = 0,
                     const std::function<bool(const json::object&)>& pred = nullptr,
                     milliseconds limit = milliseconds(10'000)) {
    const auto matches = [&](const json::object& o) {
      return o.contains("event") && o.at("event").is_string() && o.at("event").as_string() == name &&
             (!pred || pred(o));
    };
    for (std::size_t i = from; i < lines_.size(); ++i)
      if (matches(lines_[i])) return lines_[i];
    const auto deadline = clock_type::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
      BOOST_TEST_REQUIRE(left.count() > 0, "no '" << name << "' event; stderr: " << p_.err());
      json::object o = next(left);
      if (matches(o)) return o;
    }
  }

  /// Closes stdin, waits for the exit, reads the remaining lines; the exit code.
  int finish(milliseconds limit = milliseconds(10'000)) {
    p_.close_stdin();
    auto code = p_.wait_exit(limit);
    BOOST_TEST_REQUIRE(code.has_value(), "still running after end of input; stderr: " << p_.err());
    while (auto line = p_.read_line(milliseconds(0))) record(*line);
    return *code;
  }

  const std::vector<json::object>& lines() const { return lines_; }
  std::vector<json::object> results() const {
    std::vector<json::object> out;
    for (const auto& o : lines_)
      if (o.contains("id")) out.push_back(o);
    return out;
  }
  std::vector<std::string> event_names() const {
    std::vector<std::string> out;
    for (const auto& o : lines_)
      if (o.contains("event")) out.emplace_back(o.at("event").as_string());
    return out;
  }
  child_process& process() { return p_; }

 private:
  static std::vector<std::string> make_args(std::vector<std::string> args) {
    args.insert(args.begin(), "node");
    return args;
  }

  std::optional<json::object> find_result(const json::value& id) const {
    for (const auto& o : lines_)
      if (o.contains("id") && o.at("id") == id) return o;
    return std::nullopt;
  }

  json::object record(const std::string& line) {
    json::value v = parse(line);
    BOOST_TEST_REQUIRE(v.is_object(), line);
    json::object o = v.as_object();
    // Every line is a result or an event.
    BOOST_TEST_REQUIRE((o.contains("id") != o.contains("event")), line);
    if (o.contains("id")) {
      BOOST_TEST_REQUIRE(o.contains("ok"), line);
      BOOST_TEST_REQUIRE(o.at("ok").is_bool(), line);
      if (o.at("ok").as_bool())
        BOOST_TEST_REQUIRE(o.contains("value"), line);
      else
        BOOST_TEST_REQUIRE(o.at("error").as_object().at("code").is_string(), line);
    }
    lines_.push_back(o);
    return o;
  }

  child_process p_;
  std::vector<json::object> lines_;
};

std::string code_of(const json::object& result) {
  if (result.at("ok").as_bool()) return "ok";
  return std::string(result.at("error").as_object().at("code").as_string());
}

std::vector<std::string> jsonl_args(std::uint16_t port, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{url_of(port), "--jsonl"};
  a.insert(a.end(), extra.begin(), extra.end());
  return with_fast(std::move(a));
}

const std::regex uuid_re("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

}  // namespace

// ===== One-shot commands ======================================================================

BOOST_AUTO_TEST_CASE(oneshot_health_info_and_sessions) {
  auto opts = test_daemon_options();
  opts.max_sessions = 7;
  opts.session_types = {session_type::claude_code};
  daemon_fixture d(opts);
  const std::string url = url_of(d.port());

  const json::value health = ok_json({url, "health"});
  BOOST_TEST(health.at("status") == "healthy");
  BOOST_TEST(health.at("activeSessions") == 0);
  BOOST_TEST(from_json<node_health>(health).has_value());

  const json::value info = ok_json({url, "info"});
  BOOST_TEST(info.as_object().size() == 4u);
  BOOST_TEST(info.at("nodeId") == "test-node");
  BOOST_TEST(info.at("version").as_string() == opts.version);
  BOOST_TEST(info.at("protocolVersion") == 1);
  BOOST_TEST(info.at("capabilities").at("maxConcurrentSessions") == 7);
  BOOST_TEST(info.at("capabilities").at("supportedSessionTypes") == json::array({"claude-code"}));

  const json::value sessions = ok_json({url, "sessions"});
  BOOST_TEST(sessions == json::array());
}

BOOST_AUTO_TEST_CASE(oneshot_with_compression) {
  // --permessage-deflate: a large task goes compressed, and so does the daemon's answer.
  auto opts = test_daemon_options();
  opts.permessage_deflate = true;
  daemon_fixture d(opts);
  const std::string description(5000, 'z');
  const json::value s = ok_json({url_of(d.port()), "--permessage-deflate", "spawn", "--type", "claude-code",
                                 "--description", description});
  BOOST_TEST(s.at("task").at("description").as_string() == description);
  BOOST_TEST(d.server().stats().frames_compressed == 1u);
  BOOST_TEST(d.server().stats().deflate_output_bytes < 1000u);
  BOOST_TEST(d.server().stats().decode_errors == 0u);
}

BOOST_AUTO_TEST_CASE(oneshot_spawn_get_terminate) {
  daemon_fixture d;
  const std::string url = url_of(d.port());

  const json::value s = ok_json({url, "spawn", "--type", "claude-code", "--description", "write the tests"});
  BOOST_TEST(s.at("type") == "claude-code");
  BOOST_TEST(s.at("status") == "running");
  BOOST_TEST(s.at("orchestratorId") == "neolith-cli");
  const json::value& t = s.at("task");
  BOOST_TEST(t.at("description") == "write the tests");
  BOOST_TEST(t.at("type") == "general");
  BOOST_TEST(t.at("priority") == "medium");
  BOOST_TEST(t.at("status") == "pending");
  BOOST_TEST(std::regex_match(std::string(t.at("id").as_string()), uuid_re), t.at("id"));
  BOOST_TEST(t.at("createdAt") == t.at("updatedAt"));
  const auto created = parse_timestamp(t.at("createdAt").as_string());
  BOOST_TEST_REQUIRE(created.has_value());
  BOOST_TEST(std::chrono::abs(now_timestamp() - created.value()) < std::chrono::minutes(1));
  const std::string id(s.at("id").as_string());

  // Two spawns make two different task ids.
  const json::value s2 = ok_json({url, "spawn", "--type=claude-flow", "--description=second"});
  BOOST_TEST(s2.at("task").at("id") != t.at("id"));
  BOOST_TEST(s2.at("type") == "claude-flow");
  // The platform's later name of claude-flow comes back as spelled (issue 11).
  const json::value s3 = ok_json({url, "spawn", "--type=ruflo", "--description=third"});
  BOOST_TEST(s3.at("type") == "ruflo");
  BOOST_TEST(ok_json({url, "get", std::string(s3.at("id").as_string())}).at("type") == "ruflo");

  const json::value got = ok_json({url, "get", id});
  BOOST_TEST(got.at("id") == json::value(id));
  BOOST_TEST(got.at("task") == t);
  BOOST_TEST(ok_json({url, "get", "no-such-session"}) == nullptr);

  const json::value all = ok_json({url, "sessions"});
  BOOST_TEST(all.as_array().size() == 3u);

  BOOST_TEST(ok_json({url, "terminate", id}) == true);
  BOOST_TEST(ok_json({url, "terminate", id}) == false);
  BOOST_TEST(ok_json({url, "terminate", "no-such-session"}) == false);
  BOOST_TEST(ok_json({url, "get", id}).at("status") == "terminated");
}

BOOST_AUTO_TEST_CASE(oneshot_spawn_from_a_task_file) {
  daemon_fixture d;
  temp_file task(json::serialize(make_task("my-task", "from a file")));
  const json::value s = ok_json({url_of(d.port()), "spawn", "--task-file", task.str(), "--type", "claude-code"});
  BOOST_TEST(s.at("task").at("id") == "my-task");
  BOOST_TEST(s.at("task").at("type") == "code");
  BOOST_TEST(s.at("task").at("priority") == "high");
  BOOST_TEST(s.at("task").at("createdAt") == "2026-11-29T08:47:57.123Z");
  // '-' reads the task from stdin.
  const json::value s2 =
      ok_json({url_of(d.port()), "spawn", "--task-file", "-", "--type", "claude-code"}, json::serialize(make_task("t2")));
  BOOST_TEST(s2.at("task").at("id") == "t2");
}

BOOST_AUTO_TEST_CASE(oneshot_restore_from_a_file_and_stdin) {
  daemon_fixture d;
  const std::string url = url_of(d.port());
  const json::value s = ok_json({url, "spawn", "--type", "claude-code", "--description", "to restore"});
  const std::string id(s.at("id").as_string());
  BOOST_TEST(ok_json({url, "terminate", id}) == true);

  temp_file ser(json::serialize(serialized_of(s.as_object())));
  BOOST_TEST(ok_json({url, "restore", ser.str()}) == true);
  BOOST_TEST(ok_json({url, "get", id}).at("status") == "running");
  // Live again: a second restore is refused.
  BOOST_TEST(ok_json({url, "restore", ser.str()}) == false);
  BOOST_TEST(ok_json({url, "terminate", id}) == true);
  BOOST_TEST(ok_json({url, "restore", "-"}, json::serialize(serialized_of(s.as_object()))) == true);
}

BOOST_AUTO_TEST_CASE(oneshot_help) {
  for (const char* flag : {"--help", "-h"}) {
    const run_result r = run_node({flag});
    BOOST_TEST(r.code == 0);
    BOOST_TEST(contains(r.out, "usage: neolith node URL"), r.out);
    BOOST_TEST(contains(r.out, "--jsonl"));
    BOOST_TEST(r.err.empty());
  }
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_2_with_one_line) {
  const std::string url = "ws://127.0.0.1:1";
  temp_file bad_json("{not json");
  temp_file not_a_task(R"({"id": "x"})");
  temp_file caps_ok(R"({"canSpawnSessions": true, "maxConcurrentSessions": 1, "supportedSessionTypes": ["claude-code"],
                        "hasGPUAccess": false, "hasHighMemory": false})");
  temp_file empty_token("");
  const std::vector<std::vector<std::string>> cases{
      {},
      {url},
      {url, "frobnicate"},
      {"http://127.0.0.1:1", "health"},
      {"ws://", "health"},
      {url, "get"},
      {url, "terminate"},
      {url, "get", "a", "b"},
      {url, "health", "extra"},
      {url, "restore"},
      {url, "restore", "/nonexistent/file.json"},
      {url, "restore", bad_json.str()},
      {url, "spawn", "--description", "x"},
      {url, "spawn", "--type", "claude-code"},
      {url, "spawn", "--type", "bogus", "--description", "x"},
      {url, "spawn", "--type", "claude-code", "--description", "x", "--task-file", not_a_task.str()},
      {url, "spawn", "--type", "claude-code", "--task-file", not_a_task.str()},
      {url, "spawn", "--type", "claude-code", "--task-file", "/nonexistent"},
      {url, "health", "--type", "claude-code"},
      {url, "health", "--bogus"},
      {url, "health", "--jitter", "2"},
      {url, "health", "--jitter", "abc"},
      {url, "health", "--max-attempts", "-1"},
      {url, "health", "--connect-timeout-ms", "0"},
      {url, "health", "--request-timeout-ms", "1x"},
      {url, "health", "--queue-max"},
      {url, "health", "--permessage-deflate=1"},
      {url, "health", "--backoff-base-ms=100", "--backoff-max-ms=10"},
      {url, "health", "--jsonl=1"},
      {url, "health", "--capabilities", bad_json.str()},
      {url, "health", "--capabilities", not_a_task.str()},
      {url, "health", "--token-file", "/nonexistent"},
      {url, "health", "--token-file", "/tmp"},
      {url, "health", "--capabilities", "/tmp"},
      {url, "health", "--token-file", empty_token.str()},
      {url, "--jsonl", "health"},
      {url, "--jsonl", "--description", "x"},
      {url, "--jsonl", "--max-line-bytes", "1"},
  };
  for (const auto& args : cases) {
    BOOST_TEST_CONTEXT("neolith node " << [&] {
      std::string s;
      for (const auto& x : args) s += x + " ";
      return s;
    }()) {
      failing(args, 2);
    }
  }
  // A valid --capabilities file is accepted (the run then fails to connect: exit 1, not 2).
  failing({url, "health", "--capabilities", caps_ok.str(), "--max-attempts=0", "--connect-timeout-ms=500"}, 1);
}

BOOST_AUTO_TEST_CASE(unreachable_daemon_exits_1_quickly) {
  const auto port = closed_port();
  const auto t0 = clock_type::now();
  const std::string err = failing({url_of(port), "sessions", "--connect-timeout-ms", "300", "--max-attempts", "2",
                                   "--backoff-base-ms", "10", "--backoff-max-ms", "20"},
                                  1);
  BOOST_TEST((clock_type::now() - t0 < milliseconds(5000)));
  BOOST_TEST(contains(err, "cannot connect to ws://127.0.0.1:" + std::to_string(port)), err);
  BOOST_TEST(contains(err, "(connect_failed)"), err);
}

BOOST_AUTO_TEST_CASE(silent_daemon_hits_the_connect_timeout) {
  // A listener that never accepts: TCP connects (the backlog), the upgrade is never answered.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor silent(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto t0 = clock_type::now();
  const std::string err = failing(
      {url_of(silent.local_endpoint().port()), "info", "--connect-timeout-ms", "200", "--max-attempts", "0"}, 1);
  const auto took = clock_type::now() - t0;
  BOOST_TEST(contains(err, "(connect_timeout)"), err);
  BOOST_TEST((took >= milliseconds(200) && took < milliseconds(5000)));
}

BOOST_AUTO_TEST_CASE(oneshot_waits_through_reconnection_attempts) {
  // The daemon comes up after the first attempts failed: the command still succeeds.
  restartable_daemon d;
  const auto port = d.port();
  d.kill();
  child_process p(neolith_exe(), {"node", url_of(port), "health", "--connect-timeout-ms=500", "--max-attempts=100",
                                  "--backoff-base-ms=50", "--backoff-max-ms=50"});
  // Nothing listens: the first attempts fail and the command keeps waiting.
  BOOST_TEST(!p.wait_exit(milliseconds(300)).has_value());
  d.start();
  auto code = p.wait_exit(milliseconds(10'000));
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0, p.err());
  BOOST_TEST(parse(p.out()).at("status") == "healthy");
}

BOOST_AUTO_TEST_CASE(oneshot_operation_failures_exit_1) {
  auto opts = test_daemon_options();
  opts.max_sessions = 1;
  daemon_fixture d(opts);
  const std::string url = url_of(d.port());
  ok_json({url, "spawn", "--type", "claude-code", "--description", "first"});
  std::string err = failing(with_fast({url, "spawn", "--type", "claude-code", "--description", "second"}), 1);
  BOOST_TEST(contains(err, "spawn failed"), err);
  BOOST_TEST(contains(err, "(capacity_exceeded)"), err);

  // Refused locally by the given capabilities (the daemon itself would run claude-flow... if it
  // had room; the local refusal comes first).
  temp_file caps(R"({"canSpawnSessions": true, "maxConcurrentSessions": 5, "supportedSessionTypes": ["claude-code"],
                     "hasGPUAccess": false, "hasHighMemory": false})");
  err = failing(with_fast({url, "--capabilities", caps.str(), "spawn", "--type", "claude-flow", "--description", "x"}), 1);
  BOOST_TEST(contains(err, "(unsupported_session_type)"), err);
  temp_file no_spawn(R"({"canSpawnSessions": false, "maxConcurrentSessions": 0, "supportedSessionTypes": [],
                         "hasGPUAccess": false, "hasHighMemory": false})");
  err = failing(with_fast({url, "--capabilities", no_spawn.str(), "spawn", "--type", "claude-code", "--description", "x"}), 1);
  BOOST_TEST(contains(err, "(spawn_not_supported)"), err);

  // A deadline that passes.
  auto slow_opts = test_daemon_options();
  slow_opts.response_delay = milliseconds(2000);
  daemon_fixture slow(slow_opts);
  err = failing({url_of(slow.port()), "sessions", "--request-timeout-ms", "100"}, 1);
  BOOST_TEST(contains(err, "sessions failed"), err);
  BOOST_TEST(contains(err, "(timeout)"), err);
}

BOOST_AUTO_TEST_CASE(oneshot_bearer_token) {
  auto opts = test_daemon_options();
  opts.token = "s3cret-token";
  daemon_fixture d(opts);
  const std::string url = url_of(d.port());
  temp_file token("s3cret-token\n");
  BOOST_TEST(ok_json({url, "--token-file", token.str(), "info"}).at("nodeId") == "test-node");
  temp_file wrong("wrong-token\n");
  const std::string err = failing({url, "--token-file", wrong.str(), "info", "--max-attempts=0"}, 1);
  BOOST_TEST(contains(err, "(unauthorized)"), err);
  BOOST_TEST(!contains(err, "wrong-token"), err);
  failing({url, "info", "--max-attempts=0"}, 1);
}

// ===== JSON lines ==============================================================================

BOOST_AUTO_TEST_CASE(jsonl_every_op_and_its_events) {
  daemon_fixture d;
  jsonl_process j(jsonl_args(d.port()));
  BOOST_TEST(j.event("connecting").at("attempt") == 0);
  j.event("connected");

  j.send(request_line("i", "get_node_info"));
  const auto info = j.result("i");
  BOOST_TEST(info.at("ok") == true);
  BOOST_TEST(info.at("value").at("nodeId") == "test-node");
  BOOST_TEST(info.at("value").at("protocolVersion") == 1);

  j.send(request_line("h", "get_health"));
  BOOST_TEST(j.result("h").at("value").at("status") == "healthy");

  json::object spawn = request_line("s", "spawn_session");
  spawn["request"] = spawn_request("claude-code").at("request");
  spawn["deadlineMs"] = 5000;
  j.send(spawn);
  const auto spawned = j.result("s");
  BOOST_TEST_REQUIRE(spawned.at("ok") == true, json::serialize(spawned));
  const json::object session = spawned.at("value").as_object();
  const std::string id(session.at("id").as_string());
  BOOST_TEST(session.at("orchestratorId") == "orch-1");
  const auto ev = j.event("session-spawned");
  BOOST_TEST(ev.at("session").at("id") == json::value(id));

  json::object get = request_line("g", "get_session");
  get["sessionId"] = id;
  j.send(get);
  // The same session (metrics.duration runs on).
  json::object got = j.result("g").at("value").as_object();
  BOOST_TEST(got.at("metrics").at("duration").as_int64() >= session.at("metrics").at("duration").as_int64());
  got.erase("metrics");
  json::object expected = session;
  expected.erase("metrics");
  BOOST_TEST(got == expected);
  get["id"] = "g2";
  get["sessionId"] = "unknown";
  j.send(get);
  BOOST_TEST(j.result("g2").at("value") == nullptr);

  j.send(request_line("l", "get_sessions"));
  BOOST_TEST(j.result("l").at("value").as_array().size() == 1u);

  json::object term = request_line("t", "terminate_session");
  term["sessionId"] = id;
  j.send(term);
  BOOST_TEST(j.result("t").at("value") == true);
  BOOST_TEST(j.event("session-terminated").at("sessionId") == json::value(id));
  term["id"] = "t2";
  j.send(term);
  BOOST_TEST(j.result("t2").at("value") == false);

  json::object restore = request_line("r", "restore_session");
  restore["serializedSession"] = serialized_of(session);
  j.send(restore);
  BOOST_TEST(j.result("r").at("value") == true);
  BOOST_TEST(j.event("session-restored").at("sessionId") == json::value(id));
  restore["id"] = "r2";
  j.send(restore);
  BOOST_TEST(j.result("r2").at("value") == false);

  BOOST_TEST(j.finish() == 0, j.process().err());
  // The end: disconnected, by the disconnect at end of input, is the last line.
  BOOST_TEST(j.lines().back().at("event") == "disconnected");
  BOOST_TEST(j.lines().back().at("reason").at("code") == "not_connected");
  BOOST_TEST(j.results().size() == 10u);
  BOOST_TEST(j.process().err().empty(), j.process().err());
}

BOOST_AUTO_TEST_CASE(jsonl_requests_run_concurrently) {
  auto opts = test_daemon_options();
  opts.response_delay = milliseconds(300);
  daemon_fixture d(opts);
  jsonl_process j(jsonl_args(d.port()));
  j.event("connected");
  // 50 requests in one write; each answer is held back 300 ms: one after the other would take
  // 15 s.
  std::string batch;
  std::vector<json::value> ids;
  const char* ops[] = {"get_sessions", "get_node_info", "get_session", "terminate_session", "get_health"};
  for (int i = 0; i < 50; ++i) {
    json::value id = i % 2 ? json::value(i) : json::value("c" + std::to_string(i));
    json::object o = request_line(id, ops[i % 5]);
    if (i % 5 == 2 || i % 5 == 3) o["sessionId"] = "s" + std::to_string(i);
    batch += line_of(o);
    ids.push_back(id);
  }
  const auto t0 = clock_type::now();
  j.send(batch);
  for (const auto& id : ids) {
    const auto r = j.result(id);
    BOOST_TEST(r.at("ok") == true, json::serialize(r));
  }
  BOOST_TEST((clock_type::now() - t0 < milliseconds(5000)));
  // Numbers are echoed as numbers, strings as strings; each id answered once.
  BOOST_TEST(j.finish() == 0);
  std::multiset<std::string> seen;
  for (const auto& r : j.results()) seen.insert(json::serialize(r.at("id")));
  BOOST_TEST(seen.size() == 50u);
  for (const auto& id : ids) BOOST_TEST(seen.count(json::serialize(id)) == 1u, id);
}

BOOST_AUTO_TEST_CASE(jsonl_max_inflight_pauses_reading) {
  // At most 2 requests run at once, each answered after 300 ms: 6 requests take at least three
  // rounds, and all are answered.
  auto opts = test_daemon_options();
  opts.response_delay = milliseconds(300);
  daemon_fixture d(opts);
  jsonl_process j(jsonl_args(d.port(), {"--max-inflight", "2"}));
  j.event("connected");
  std::string batch;
  for (int i = 0; i < 6; ++i) batch += line_of(request_line(i, "get_sessions"));
  const auto t0 = clock_type::now();
  j.send(batch);
  for (int i = 0; i < 6; ++i) BOOST_TEST(code_of(j.result(i)) == "ok");
  BOOST_TEST((clock_type::now() - t0 >= milliseconds(900)));
  BOOST_TEST(j.finish() == 0);
}

BOOST_AUTO_TEST_CASE(jsonl_malformed_lines_get_invalid_request_and_the_run_goes_on) {
  daemon_fixture d;
  jsonl_process j(jsonl_args(d.port(), {"--max-line-bytes", "200"}));
  j.event("connected");
  const std::string long_line = R"({"id": "long", "op": "get_health", "pad": ")" + std::string(300, 'x') + "\"}\n";
  j.send(std::string("not json\n") +                                       // 1
         "[1, 2]\n" +                                                      // 2
         R"({"op": "get_health"})" "\n" +                                  // 3 no id
         R"({"id": true, "op": "get_health"})" "\n" +                      // 4 ill-typed id
         R"({"id": "no-op"})" "\n" +                                       // 5
         R"({"id": "op-type", "op": 5})" "\n" +                            // 6
         R"({"id": "bogus", "op": "frobnicate"})" "\n" +                   // 7
         R"({"id": "no-sid", "op": "get_session"})" "\n" +                 // 8
         R"({"id": 7, "op": "terminate_session", "sessionId": 5})" "\n" +  // 9
         R"({"id": "dl", "op": "get_health", "deadlineMs": -1})" "\n" +    // 10
         R"({"id": "dl2", "op": "get_health", "deadlineMs": "5"})" "\n" +  // 11
         R"({"id": "sp", "op": "spawn_session", "request": {"orchestratorId": "o"}})" "\n" +  // 12
         R"({"id": "rs", "op": "restore_session", "serializedSession": []})" "\n" +         // 13
         R"({"id": "sp2", "op": "spawn_session"})" "\n" +                  // 14
         "\n" +                                                            // (blank: skipped)
         long_line +                                                       // 16
         R"({"id": "after", "op": "get_health", "deadlineMs": 2000})" "\n");
  const auto ok = j.result("after");
  BOOST_TEST(ok.at("ok") == true);
  BOOST_TEST(j.finish() == 0);

  const auto results = j.results();
  BOOST_TEST_REQUIRE(results.size() == 16u);
  const std::vector<json::value> expected_ids{nullptr, nullptr, nullptr, nullptr, "no-op", "op-type", "bogus", "no-sid",
                                              7,       "dl",    "dl2",   "sp",    "rs",    "sp2",     nullptr};
  for (std::size_t i = 0; i < expected_ids.size(); ++i) {
    BOOST_TEST_CONTEXT("result " << i << ": " << json::serialize(results[i])) {
      BOOST_TEST(results[i].at("id") == expected_ids[i]);
      BOOST_TEST(code_of(results[i]) == "invalid_request");
      BOOST_TEST(!results[i].at("error").at("message").as_string().empty());
    }
  }
  BOOST_TEST(contains(std::string(results[0].at("error").at("message").as_string()), "line 1"));
  BOOST_TEST(contains(std::string(results[6].at("error").at("message").as_string()), "frobnicate"));
  BOOST_TEST(contains(std::string(results[11].at("error").at("message").as_string()), "SessionSpawnRequest"));
  BOOST_TEST(contains(std::string(results[14].at("error").at("message").as_string()), "line 16 is longer than 200 bytes"));
  BOOST_TEST(results[15].at("id") == "after");
}

BOOST_AUTO_TEST_CASE(jsonl_error_codes_from_the_daemon_and_local) {
  auto opts = test_daemon_options();
  opts.max_sessions = 1;
  daemon_fixture d(opts);
  temp_file caps(R"({"canSpawnSessions": true, "maxConcurrentSessions": 5, "supportedSessionTypes": ["claude-code"],
                     "hasGPUAccess": false, "hasHighMemory": false})");
  jsonl_process j(jsonl_args(d.port(), {"--capabilities", caps.str()}));
  json::object a = request_line("a", "spawn_session");
  a["request"] = spawn_request("claude-code").at("request");
  json::object b = a;
  b["id"] = "b";
  json::object f = request_line("f", "spawn_session");
  f["request"] = spawn_request("claude-flow").at("request");
  j.send(line_of(a) + line_of(b) + line_of(f));
  const std::multiset<std::string> codes{code_of(j.result("a")), code_of(j.result("b"))};
  BOOST_TEST((codes == std::multiset<std::string>{"ok", "capacity_exceeded"}));
  // Refused locally: this daemon supports claude-flow, the given capabilities do not.
  BOOST_TEST(code_of(j.result("f")) == "unsupported_session_type");
  BOOST_TEST(j.finish() == 0);
}

BOOST_AUTO_TEST_CASE(jsonl_deadline_gives_timeout) {
  auto opts = test_daemon_options();
  opts.response_delay = milliseconds(1500);
  daemon_fixture d(opts);
  jsonl_process j(jsonl_args(d.port()));
  j.event("connected");  // the process's start-up is not part of the bound below
  json::object o = request_line("slow", "get_sessions");
  o["deadlineMs"] = 100;
  const auto t0 = clock_type::now();
  j.send(o);
  const auto r = j.result("slow");
  BOOST_TEST(code_of(r) == "timeout");
  BOOST_TEST((clock_type::now() - t0 < milliseconds(1400)));
  BOOST_TEST(j.finish() == 0);
}

BOOST_AUTO_TEST_CASE(jsonl_end_of_input_waits_for_outstanding_requests) {
  auto opts = test_daemon_options();
  opts.response_delay = milliseconds(500);
  daemon_fixture d(opts);
  jsonl_process j(jsonl_args(d.port()));
  std::string batch;
  for (int i = 0; i < 5; ++i) batch += line_of(request_line(json::value("w" + std::to_string(i)), "get_sessions"));
  j.send(batch);
  // stdin closes right away: the answers (held back 500 ms) still come, then the exit.
  BOOST_TEST(j.finish() == 0, j.process().err());
  const auto results = j.results();
  BOOST_TEST(results.size() == 5u);
  for (const auto& r : results) BOOST_TEST(code_of(r) == "ok", json::serialize(r));
  BOOST_TEST(j.lines().back().at("event") == "disconnected");
}

BOOST_AUTO_TEST_CASE(jsonl_queue_full_while_the_daemon_is_down) {
  const auto port = closed_port();
  jsonl_process j({url_of(port), "--jsonl", "--max-attempts", "1000", "--connect-timeout-ms", "200",
                   "--backoff-base-ms", "30", "--backoff-max-ms", "30", "--queue-max", "2"});
  std::string batch;
  for (const char* id : {"q1", "q2", "q3"}) {
    json::object o = request_line(id, "get_sessions");
    o["deadlineMs"] = 800;
    batch += line_of(o);
  }
  j.send(batch);
  const auto third = j.result("q3");
  BOOST_TEST(code_of(third) == "queue_full");
  BOOST_TEST(code_of(j.result("q1")) == "timeout");
  BOOST_TEST(code_of(j.result("q2")) == "timeout");
  // Meanwhile the node keeps trying: failed attempts and scheduled reconnections.
  const auto e = j.event("error");
  BOOST_TEST(e.at("error").at("code") == "connect_failed");
  const auto r = j.event("reconnecting");
  BOOST_TEST(r.at("attempt").as_int64() >= 1);
  BOOST_TEST(r.at("delayMs") == 30);
  BOOST_TEST(j.finish() == 0);
  BOOST_TEST(j.event_names().front() == "connecting");
}

BOOST_AUTO_TEST_CASE(jsonl_first_connection_fails_and_the_run_goes_on) {
  const auto port = closed_port();
  jsonl_process j({url_of(port), "--jsonl", "--max-attempts", "0", "--connect-timeout-ms", "500"});
  BOOST_TEST(j.event("reconnect-failed").at("attempts") == 0);
  j.send(request_line("x", "get_sessions"));
  BOOST_TEST(code_of(j.result("x")) == "not_connected");
  j.send(request_line("h", "get_health"));
  BOOST_TEST(j.result("h").at("value").at("status") == "offline");
  BOOST_TEST(j.finish() == 0);
  const auto names = j.event_names();
  BOOST_TEST((std::vector<std::string>(names.begin(), names.begin() + 3) ==
              std::vector<std::string>{"connecting", "error", "reconnect-failed"}));
}

BOOST_AUTO_TEST_CASE(jsonl_pushes_of_unknown_types_are_message_events_as_received) {
  // A newer daemon's push of a type the node does not know: {"event":"message","message":<the
  // object as received>}; a malformed frame stays an error event (issue 11).
  static const std::string push =
      R"({"type":"custom_push","payload":{"ratio":0.1,"big":9007199254740993,"list":[1,"a",null,{"deep":[true]}]}})";
  boost::asio::io_context ioc;
  scripted_peer peer(ioc.get_executor(), [](std::shared_ptr<scripted_peer::ws_stream> ws) -> boost::asio::awaitable<void> {
    co_await write_text(*ws, push);
    co_await write_text(*ws, R"({"payload":{}})");  // no type: an error event
    while (co_await read_text(*ws)) {
    }
  });
  std::thread io([&ioc] { ioc.run(); });
  struct stop_io {
    boost::asio::io_context& ioc;
    std::thread& t;
    ~stop_io() {
      ioc.stop();
      t.join();
    }
  } stop{ioc, io};
  jsonl_process j(jsonl_args(peer.port()));
  const auto m = j.event("message");
  BOOST_TEST(m.size() == 2u, json::serialize(m));
  BOOST_TEST(m.at("message") == parse(push), json::serialize(m));
  BOOST_TEST(j.event("error").at("error").at("code") == "missing_field");
  BOOST_TEST(j.finish() == 0);
}

BOOST_AUTO_TEST_CASE(jsonl_ruflo_is_reported_as_ruflo) {
  daemon_fixture d;
  jsonl_process j(jsonl_args(d.port()));
  j.send(request_line("i", "get_node_info"));
  BOOST_TEST(j.result("i").at("value").at("capabilities").at("supportedSessionTypes") ==
             (json::array{"claude-code", "claude-flow", "ruflo"}));
  json::object spawn = request_line("s", "spawn_session");
  spawn["request"] = spawn_request("ruflo").at("request");
  j.send(spawn);
  const auto spawned = j.result("s");
  BOOST_TEST_REQUIRE(spawned.at("ok") == true, json::serialize(spawned));
  BOOST_TEST(spawned.at("value").at("type") == "ruflo");
  BOOST_TEST(j.event("session-spawned").at("session").at("type") == "ruflo");
  j.send(request_line("l", "get_sessions"));
  const auto list = j.result("l");
  BOOST_TEST_REQUIRE(list.at("value").as_array().size() == 1u, json::serialize(list));
  BOOST_TEST(list.at("value").as_array()[0].at("type") == "ruflo");
  BOOST_TEST(j.finish() == 0);
}

BOOST_AUTO_TEST_CASE(jsonl_reconnects_after_the_daemon_restarts) {
  restartable_daemon d;
  jsonl_process j(jsonl_args(d.port(), {"--max-attempts", "1000"}));
  j.event("connected");
  const std::size_t mark = j.lines().size();
  d.kill();
  const auto lost = j.event("disconnected", mark);
  BOOST_TEST(lost.at("reason").at("code").as_string() != "not_connected");
  BOOST_TEST(j.event("reconnecting", mark).at("attempt") == 1);
  d.start();
  j.event("connected", mark);
  j.send(request_line("after", "get_node_info"));
  BOOST_TEST(code_of(j.result("after")) == "ok");
  BOOST_TEST(j.finish() == 0);
}

BOOST_AUTO_TEST_CASE(jsonl_heartbeat_options_reach_the_node) {
  // Every answer (heartbeat acks too) is held back 3 s: with a 150 ms heartbeat timeout the
  // node declares the connection dead.
  auto opts = test_daemon_options();
  opts.response_delay = milliseconds(3000);
  daemon_fixture d(opts);
  jsonl_process j({url_of(d.port()), "--jsonl", "--heartbeat-interval-ms", "20", "--heartbeat-timeout-ms", "150",
                   "--backoff-base-ms", "5000", "--max-attempts", "1"});
  j.event("connected");
  const auto t0 = clock_type::now();
  const auto lost = j.event("disconnected");
  BOOST_TEST(lost.at("reason").at("code") == "heartbeat_timeout");
  BOOST_TEST((clock_type::now() - t0 < milliseconds(2500)));
  BOOST_TEST(j.event("reconnecting").at("delayMs") == 5000);
  BOOST_TEST(j.finish() == 0);
}

BOOST_AUTO_TEST_CASE(jsonl_default_line_limit_is_16_mib) {
  daemon_fixture d;
  jsonl_process j(jsonl_args(d.port()));
  std::string huge = R"({"id": "huge", "op": "get_health", "pad": ")";
  huge.append((std::size_t{16} << 20) + 1 - huge.size() - 2, 'x');
  huge += "\"}";
  BOOST_TEST_REQUIRE(huge.size() == (std::size_t{16} << 20) + 1);
  std::string just_fits = R"({"id": "fits", "op": "get_node_info", "pad": ")";
  just_fits.append((std::size_t{16} << 20) - just_fits.size() - 2, 'y');
  just_fits += "\"}";
  BOOST_TEST_REQUIRE(just_fits.size() == (std::size_t{16} << 20));
  j.send(huge + "\n" + just_fits + "\n" + line_of(request_line("next", "get_node_info")));
  BOOST_TEST(code_of(j.result("next")) == "ok");
  BOOST_TEST(code_of(j.result("fits")) == "ok");
  BOOST_TEST(j.finish() == 0);
  const auto results = j.results();
  BOOST_TEST_REQUIRE(results.size() == 3u);
  BOOST_TEST(results[0].at("id") == nullptr);
  BOOST_TEST(code_of(results[0]) == "invalid_request");
  BOOST_TEST(contains(std::string(results[0].at("error").at("message").as_string()), "line 1 is longer than 16777216 bytes"));
}

BOOST_AUTO_TEST_CASE(jsonl_daemon_pushes_are_message_events) {
  // The process runner's session ends on its own: the daemon pushes session_updated.
  auto opts = test_daemon_options();
  opts.runner = runner_kind::process;
  opts.session_types = {session_type::claude_code};
  opts.exec = {{session_type::claude_code, "exit 0"}};
  daemon_fixture d(opts);
  jsonl_process j(jsonl_args(d.port()));
  json::object s = request_line("s", "spawn_session");
  s["request"] = spawn_request("claude-code").at("request");
  j.send(s);
  const auto r = j.result("s");
  BOOST_TEST_REQUIRE(code_of(r) == "ok", json::serialize(r));
  const auto m = j.event("message");
  BOOST_TEST(m.at("message").at("type") == "session_updated");
  BOOST_TEST(m.at("message").at("sessionId") == r.at("value").at("id"));
  BOOST_TEST(j.finish() == 0);
}

BOOST_AUTO_TEST_CASE(jsonl_stdin_from_a_regular_file_and_dev_null) {
  daemon_fixture d;
  temp_file input(line_of(request_line("f1", "get_node_info")) + line_of(request_line(2, "get_sessions")));
  // sh redirects a regular file to stdin (no pipe, no stream_descriptor possible).
  child_process p("/bin/sh", {"-c", "exec \"$0\" node \"$1\" --jsonl < \"$2\"", neolith_exe(), url_of(d.port()),
                              input.str()});
  auto code = p.wait_exit(milliseconds(10'000));
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0, p.err());
  BOOST_TEST(contains(p.out(), R"({"id":"f1","ok":true)"), p.out());
  BOOST_TEST(contains(p.out(), R"({"id":2,"ok":true,"value":[]})"), p.out());

  // child_process's default stdin is /dev/null.
  child_process q(neolith_exe(), {"node", url_of(d.port()), "--jsonl"});
  code = q.wait_exit(milliseconds(10'000));
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0, q.err());
}

BOOST_AUTO_TEST_CASE(jsonl_closed_stdout_exits_1_without_hanging) {
  daemon_fixture d;
  // stdout closed from the start.
  {
    child_process p("/bin/sh", {"-c", "exec \"$0\" node \"$1\" --jsonl >&-", neolith_exe(), url_of(d.port())},
                    child_process::pipe_stdin);
    auto code = p.wait_exit(milliseconds(10'000));
    BOOST_TEST_REQUIRE(code.has_value());
    BOOST_TEST(*code == 1);
    BOOST_TEST(contains(p.err(), "stdout is not open"), p.err());
  }
  // stdout is a pipe whose reader has gone (EPIPE): with stdin still open, the process must
  // notice on its own. Its exit status goes to a file (the pipeline's is head's).
  temp_file status("");
  child_process p("/bin/sh",
                  {"-c", "{ \"$0\" node \"$1\" --jsonl; echo $? > \"$2\"; } | head -c 0", neolith_exe(),
                   url_of(d.port()), status.str()},
                  child_process::pipe_stdin);
  std::optional<int> code;
  // Each request makes a result line; once head has exited, writing one fails.
  for (int i = 0; i < 200 && !code; ++i) {
    p.write_stdin(line_of(request_line(i, "get_node_info")), milliseconds(100));
    code = p.wait_exit(milliseconds(50));
  }
  BOOST_TEST_REQUIRE(code.has_value(), "still running with its stdout gone; stderr: " << p.err());
  std::ifstream in(status.path);
  std::string st;
  std::getline(in, st);
  BOOST_TEST(st == "1");
  BOOST_TEST(contains(p.err(), "cannot write to stdout"), p.err());
}
