// The daemon's plain HTTP endpoints on its WebSocket port: GET /metrics (checked by a strict
// Prometheus text-format parser: Debian's python3-prometheus-client), /healthz and /readyz
// (200/503), the bearer token (and --metrics-public), the same TLS, and the 426/401 that
// every other plain request keeps. Fetched with curl, a real HTTP client.
#define BOOST_TEST_MODULE daemon_http
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/daemon_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_certs.hpp"

#include <neolith/daemon/detail/daemon_http.hpp>
#include <neolith/daemon/detail/daemon_server_impl.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>

#include <unistd.h>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {


struct curl_reply {
  int status = 0;
  std::string headers;  ///< the raw header block, lower-cased
  std::string body;
};

/// GET `url` with curl (-k never: TLS is checked against `ca` when given).
curl_reply curl_get(const std::string& url, const std::optional<std::string>& token = std::nullopt,
                    const std::optional<std::string>& ca = std::nullopt) {
  temp_dir d;
  std::vector<std::string> args{"-sS", "--max-time", "20", "-o", (d.path / "body").string(), "-D",
                                (d.path / "headers").string(), "-w", "%{http_code}"};
  if (token) args.insert(args.end(), {"-H", "Authorization: Bearer " + *token});
  if (ca) args.insert(args.end(), {"--cacert", *ca});
  args.push_back(url);
  child_process p("/usr/bin/curl", args);
  const auto code = p.wait_exit(milliseconds(30'000));
  BOOST_TEST_REQUIRE(code.has_value(), "curl did not exit");
  BOOST_TEST_REQUIRE(*code == 0, "curl failed: " << p.err());
  curl_reply r;
  r.status = std::stoi(p.out());
  r.headers = read_file(d.path / "headers");
  for (char& c : r.headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  r.body = read_file(d.path / "body");
  return r;
}

std::string url(std::uint16_t port, std::string_view path, bool tls = false) {
  return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + std::string(path);
}

/// Parses an exposition with prometheus_client's parser (strict: a malformed line raises) and
/// returns {"name{labels}": value} for every sample, labels sorted as the parser gives them.
std::map<std::string, double> parse_exposition(const std::string& text) {
  temp_dir d;
  const auto in = d.path / "metrics.txt";
  std::ofstream(in, std::ios::binary) << text;
  static const char* script = R"(import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
        out[s.name + "{" + labels + "}"] = s.value
print(json.dumps(out))
)";
  child_process p("/usr/bin/python3", {"-c", script, in.string()});
  const auto code = p.wait_exit(milliseconds(30'000));
  BOOST_TEST_REQUIRE(code.has_value(), "python3 did not exit");
  BOOST_TEST_REQUIRE(*code == 0, "the exposition does not parse: " << p.err() << "\n" << text);
  std::map<std::string, double> samples;
  const json::value v = json::parse(p.out());
  for (const auto& [k, x] : v.as_object()) samples[std::string(k)] = x.to_number<double>();
  return samples;
}

std::string spawn_one(ws_client& c, std::string_view id) {
  auto a = c.request(spawn_request(), id);
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST_REQUIRE(str(*a, "type") == "session_spawned", json::serialize(*a));
  return str(*a, "sessionId");
}

}  // namespace

BOOST_AUTO_TEST_CASE(metrics_parse_and_count_sessions_by_status) {
  daemon_fixture f;
  auto c = f.connect();
  const std::string s1 = spawn_one(*c, "a");
  spawn_one(*c, "b");
  auto t = c->request(session_request("terminate_session", s1), "t");
  BOOST_TEST_REQUIRE(t.has_value());

  const auto r = curl_get(url(f.port(), "/metrics"));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.headers.find("content-type: text/plain; version=0.0.4") != std::string::npos, r.headers);
  const auto m = parse_exposition(r.body);
  BOOST_TEST(m.at(R"(neolith_daemon_sessions{node="test-node",status="running"})") == 1);
  BOOST_TEST(m.at(R"(neolith_daemon_sessions{node="test-node",status="terminated"})") == 1);
  BOOST_TEST(m.at(R"(neolith_daemon_sessions{node="test-node",status="failed"})") == 0);
  BOOST_TEST(m.at(R"(neolith_daemon_live_sessions{node="test-node"})") == 1);
  BOOST_TEST(m.at(R"(neolith_daemon_connections{node="test-node"})") == 1);
  BOOST_TEST(m.at(R"(neolith_daemon_requests_total{node="test-node",type="spawn_session"})") == 2);
  BOOST_TEST(m.at(R"(neolith_daemon_spawns_executed_total{node="test-node"})") == 2);
  // A scrape is not a refused request.
  BOOST_TEST(m.at(R"(neolith_daemon_http_refused_total{node="test-node"})") == 0);
  BOOST_TEST(f.server().stats().http_refused == 0u);
}

BOOST_AUTO_TEST_CASE(healthz_and_readyz_follow_capacity) {
  auto o = test_daemon_options();
  o.max_sessions = 1;
  daemon_fixture f(o);
  auto h = curl_get(url(f.port(), "/healthz"));
  BOOST_TEST(h.status == 200);
  BOOST_TEST(h.body == "ok\n");
  BOOST_TEST(curl_get(url(f.port(), "/readyz")).status == 200);
  BOOST_TEST(curl_get(url(f.port(), "/readyz?verbose=1")).status == 200);

  auto c = f.connect();
  const std::string s = spawn_one(*c, "a");
  auto full = curl_get(url(f.port(), "/readyz"));
  BOOST_TEST(full.status == 503);
  BOOST_TEST(full.body == "at capacity\n");
  BOOST_TEST(curl_get(url(f.port(), "/healthz")).status == 200);  // alive, only full

  BOOST_TEST_REQUIRE(c->request(session_request("terminate_session", s), "t").has_value());
  BOOST_TEST(curl_get(url(f.port(), "/readyz")).status == 200);
}

BOOST_AUTO_TEST_CASE(probes_answer_503_while_stopping) {
  // The listener closes when a stop begins, so a probe sees the stopping state only on a
  // connection accepted before: checked on the handler itself.
  boost::asio::io_context ioc;
  auto s = std::make_shared<daemon_server::impl>(ioc.get_executor(), test_daemon_options());
  boost::beast::http::request<boost::beast::http::string_body> req{boost::beast::http::verb::get, "/healthz", 11};
  auto ok = detail::answer_probe(*s, req);
  BOOST_TEST_REQUIRE(ok.has_value());
  BOOST_TEST(static_cast<int>(ok->status) == 200);
  s->stopping.store(true);
  for (const char* path : {"/healthz", "/readyz"}) {
    req.target(path);
    auto a = detail::answer_probe(*s, req);
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(static_cast<int>(a->status) == 503);
  }
  // Not a probe: left to the 426/401 of plain requests.
  req.target("/other");
  BOOST_TEST(!detail::answer_probe(*s, req).has_value());
  req.target("/metrics");
  req.method(boost::beast::http::verb::post);
  BOOST_TEST(!detail::answer_probe(*s, req).has_value());
}

BOOST_AUTO_TEST_CASE(token_guards_the_probes_unless_public) {
  auto o = test_daemon_options();
  o.token = "s3cret";
  {
    daemon_fixture f(o);
    BOOST_TEST(curl_get(url(f.port(), "/metrics")).status == 401);
    BOOST_TEST(curl_get(url(f.port(), "/healthz"), std::string("wrong")).status == 401);
    BOOST_TEST(curl_get(url(f.port(), "/metrics"), std::string("s3cret")).status == 200);
    BOOST_TEST(curl_get(url(f.port(), "/healthz"), std::string("s3cret")).status == 200);
    // Any other plain request: 426 with the token, 401 without.
    BOOST_TEST(curl_get(url(f.port(), "/other"), std::string("s3cret")).status == 426);
    BOOST_TEST(curl_get(url(f.port(), "/other")).status == 401);
    BOOST_TEST(f.server().stats().http_refused == 4u);
  }
  o.metrics_public = true;
  daemon_fixture f(o);
  BOOST_TEST(curl_get(url(f.port(), "/metrics")).status == 200);
  BOOST_TEST(curl_get(url(f.port(), "/readyz")).status == 200);
  BOOST_TEST(curl_get(url(f.port(), "/other")).status == 401);  // only the probes are public
  // And the WebSocket still needs the token.
  ws_client c;
  BOOST_TEST(c.connect(f.port()));
  BOOST_TEST(c.http_status() == 401);
}

BOOST_AUTO_TEST_CASE(probes_over_the_same_tls) {
  const auto& certs = tls_certs::shared();
  auto o = test_daemon_options();
  o.tls.emplace();
  o.tls->certificate_chain_file = certs.server_cert;
  o.tls->private_key_file = certs.server_key;
  daemon_fixture f(o);
  const std::string& ca = certs.ca_cert;
  const auto r = curl_get(url(f.port(), "/metrics", true), std::nullopt, ca);
  BOOST_TEST(r.status == 200);
  BOOST_TEST(parse_exposition(r.body).count(R"(neolith_daemon_live_sessions{node="test-node"})") == 1u);
  BOOST_TEST(curl_get(url(f.port(), "/healthz", true), std::nullopt, ca).status == 200);
}

BOOST_AUTO_TEST_CASE(cli_serves_metrics_with_metrics_public) {
  temp_dir d;
  const auto token = d.path / "token";
  std::ofstream(token) << "tok\n";
  child_process p(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--node-id", "cli-node", "--token-file",
                                  token.string(), "--metrics-public", "--threads", "1"});
  auto line = p.read_line(milliseconds(10'000));
  BOOST_TEST_REQUIRE(line.has_value(), "no listening line; stderr: " << p.err());
  const auto colon = line->rfind(':');
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1)));
  const auto r = curl_get(url(port, "/metrics"));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(parse_exposition(r.body).at(R"(neolith_daemon_connections{node="cli-node"})") == 0);
  p.signal(SIGTERM);
  const auto code = p.wait_exit(milliseconds(10'000));
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
}
