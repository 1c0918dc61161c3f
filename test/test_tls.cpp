// wss://: daemon_node and daemon_server over TLS, with certificates generated at run time
// (support/tls_certs): every request kind, a daemon restart (reconnect and re-send over TLS),
// an untrusted CA and a host name mismatch (through the backoff path), verify_peer off, a
// plain client on a TLS daemon and the other way round, garbage and stalled handshakes that
// cost only their own connection, mutual TLS, files that cannot be used (library and CLI), and
// `neolith daemon --tls-*` with `neolith node wss://...` end to end.
#define BOOST_TEST_MODULE tls
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_process.hpp"
#include "support/log_lines.hpp"
#include "support/node_env.hpp"
#include "support/tls_certs.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/daemon/daemon_server.hpp>
#include <neolith/transport/detail/corked_stream.hpp>
#include <neolith/transport/detail/maybe_tls_stream.hpp>
#include <neolith/transport/detail/tls_context.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <vector>

using namespace neolith;
using namespace neolith::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

const tls_certs& certs() { return tls_certs::shared(); }

/// Daemon options with TLS (the test certificates), and optionally required client
/// certificates.
daemon_options tls_daemon_options(bool require_client_cert = false) {
  auto o = test_daemon_options();
  o.tls.emplace();
  o.tls->certificate_chain_file = certs().server_cert;
  o.tls->private_key_file = certs().server_key;
  if (require_client_cert) o.tls->client_ca_file = certs().ca_cert;
  return o;
}

/// Node options trusting the test CA.
node_options tls_node_options() {
  auto o = fast_node_options();
  o.tls.ca_file = certs().ca_cert;
  return o;
}

node_endpoint tls_endpoint(std::uint16_t port, const std::string& host = "127.0.0.1") {
  auto ep = node_endpoint::parse("wss://" + host + ":" + std::to_string(port) + "/");
  BOOST_TEST_REQUIRE(ep.has_value());
  return ep.value();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// The events of a node (listener on the node's strand, read from the test thread).
struct event_log {
  std::mutex m;
  std::vector<node_event> events;
  void attach(daemon_node& n) {
    n.add_listener([this](const node_event& e) {
      std::lock_guard lock(m);
      events.push_back(e);
    });
  }
  std::size_t count(std::string_view name) {
    std::lock_guard lock(m);
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [&](const node_event& e) { return event_name(e) == name; }));
  }
  std::vector<error_info> errors() {
    std::lock_guard lock(m);
    std::vector<error_info> out;
    for (const auto& e : events)
      if (const auto* err = std::get_if<event::error>(&e)) out.push_back(err->error);
    return out;
  }
};

/// A node on its own io_context (run from the test thread).
struct tls_env {
  restartable_daemon daemon;
  asio::io_context ioc;
  std::optional<daemon_node> node_storage;

  explicit tls_env(daemon_options d = tls_daemon_options(), node_options o = tls_node_options(),
                   std::string host = "127.0.0.1")
      : daemon(std::move(d)) {
    node_storage.emplace(ioc.get_executor(), "tls-node", tls_endpoint(daemon.port(), host), test_capabilities(), o);
  }
  ~tls_env() {
    node_storage.reset();
    drain(ioc);
  }
  daemon_node& node() { return *node_storage; }
  /// Another node on this io_context, to the same daemon.
  std::unique_ptr<daemon_node> other(node_options o, node_endpoint ep) {
    return std::make_unique<daemon_node>(ioc.get_executor(), "other", std::move(ep), test_capabilities(), o);
  }
};

/// Spawns, lists, gets, terminates, restores, and asks health and node info: every request kind.
void every_request_kind(asio::io_context& ioc, daemon_node& node, const std::string& task) {
  auto spawned = run(ioc, node.spawn_session(make_spawn(task)));
  BOOST_TEST_REQUIRE(spawned.has_value(), (spawned ? "" : spawned.error().what()));
  const session s = spawned.value();
  auto got = run(ioc, node.get_session(s.id));
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST_REQUIRE(got.value().has_value());
  BOOST_TEST(got.value()->task.id == task);
  auto unknown = run(ioc, node.get_session("no-such-session"));
  BOOST_TEST_REQUIRE(unknown.has_value());
  BOOST_TEST(!unknown.value().has_value());
  auto list = run(ioc, node.get_sessions());
  BOOST_TEST_REQUIRE(list.has_value());
  BOOST_TEST(list.value().size() >= 1u);
  auto term = run(ioc, node.terminate_session(s.id));
  BOOST_TEST_REQUIRE(term.has_value());
  BOOST_TEST(term.value() == true);
  serialized_session ser;
  ser.session = got.value().value();
  ser.metadata.serialized_at = now_timestamp();
  ser.metadata.node_id = "tls-node";
  ser.metadata.version = "1";
  auto restored = run(ioc, node.restore_session(ser));
  BOOST_TEST_REQUIRE(restored.has_value(), (restored ? "" : restored.error().what()));
  BOOST_TEST(restored.value() == true);
  auto info = run(ioc, node.get_node_info());
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(info.value().protocol == 1);
  auto health = run(ioc, node.get_health());
  BOOST_TEST_REQUIRE(health.has_value());
  BOOST_TEST((health.value().status != node_status::offline));
}

/// Reads from a raw client socket until the peer closes it (or 100 reads); records when.
awaitable<void> read_until_closed(std::shared_ptr<tcp::socket> s,
                                  std::shared_ptr<std::vector<std::optional<clock_type::time_point>>> closed,
                                  std::size_t i) {
  char buf[256];
  for (int n = 0; n < 100; ++n) {
    auto [ec, got] = co_await s->async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
    (void)got;
    if (ec) break;
  }
  (*closed)[i] = clock_type::now();
}

/// A connect() that must fail; returns its error and how long it took.
std::pair<error_info, clock_type::duration> failed_connect(asio::io_context& ioc, daemon_node& node) {
  const auto t0 = clock_type::now();
  auto r = run(ioc, node.connect());
  const auto took = clock_type::now() - t0;
  BOOST_TEST_REQUIRE(!r.has_value());
  return {r.error(), took};
}

}  // namespace

// ----- The transport layer ------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(transport)

BOOST_AUTO_TEST_CASE(a_tls_stream_destroyed_with_a_write_in_flight_touches_nothing_of_it) {
  // corked_stream may be destroyed with its flush in flight (safe on a socket); over TLS the
  // write's handler keeps the TLS block alive until it completes. ASan checks the rest.
  using transport = detail::maybe_tls_stream<tcp::socket>;
  asio::io_context ioc;
  daemon_tls_options st;
  st.certificate_chain_file = certs().server_cert;
  st.private_key_file = certs().server_key;
  auto server_ctx = detail::make_server_tls_context(st);
  BOOST_TEST_REQUIRE(server_ctx.has_value());
  node_tls_options ct;
  ct.ca_file = certs().ca_cert;
  auto client_ctx = detail::make_client_tls_context(ct);
  BOOST_TEST_REQUIRE(client_ctx.has_value());

  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto client = std::make_unique<detail::corked_stream<transport>>(ioc.get_executor());
  client->next_layer().next_layer().connect(acceptor.local_endpoint());
  asio::ssl::stream<tcp::socket> server(acceptor.accept(), *server_ctx.value());
  BOOST_TEST(!client->next_layer().is_tls());
  auto& tls = client->next_layer().start_tls(*client_ctx.value());
  BOOST_TEST(client->next_layer().is_tls());
  BOOST_TEST(client->next_layer().next_layer().is_open());  // the TCP stream moved under TLS
  std::optional<boost::system::error_code> server_hs, client_hs;
  server.async_handshake(asio::ssl::stream_base::server, [&](boost::system::error_code ec) { server_hs = ec; });
  tls.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code ec) { client_hs = ec; });
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return server_hs && client_hs; }, 5s));
  BOOST_TEST_REQUIRE(!*server_hs, server_hs->message());
  BOOST_TEST_REQUIRE(!*client_hs, client_hs->message());

  // A small write arrives decrypted.
  BOOST_TEST(client->append([](std::vector<char>& out) { out.insert(out.end(), {'h', 'i'}); }));
  char got[2] = {};
  std::optional<boost::system::error_code> read_ec;
  asio::async_read(server, asio::buffer(got), [&](boost::system::error_code ec, std::size_t) { read_ec = ec; });
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return read_ec.has_value(); }, 5s));
  BOOST_TEST(!*read_ec);
  BOOST_TEST(std::string(got, 2) == "hi");

  // 32 MiB the server does not read (more than the socket buffers hold): the flush stays in
  // flight. Then the stream goes away.
  BOOST_TEST(client->append([](std::vector<char>& out) { out.resize(out.size() + (std::size_t{32} << 20), 'x'); }));
  ioc.restart();
  ioc.run_for(50ms);
  BOOST_TEST_REQUIRE(client->buffered() > 0u);
  client.reset();
  // The peer goes away: the write in flight fails, its handler runs and releases the block.
  server.next_layer().close();
  ioc.restart();
  ioc.run_for(5s);  // returns as soon as nothing is left: the block (and its socket) are gone
  BOOST_TEST(ioc.stopped());
}

BOOST_AUTO_TEST_SUITE_END()

// ----- The client and the daemon over wss:// ----------------------------------------------

BOOST_AUTO_TEST_SUITE(over_tls)

BOOST_AUTO_TEST_CASE(wss_endpoints_parse) {
  auto a = node_endpoint::parse("wss://daemon.example:8443/nodes/7?x=1");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(a.value().tls);
  BOOST_TEST(a.value().host == "daemon.example");
  BOOST_TEST(a.value().port == 8443);
  BOOST_TEST(a.value().target == "/nodes/7?x=1");
  BOOST_TEST(a.value().url() == "wss://daemon.example:8443/nodes/7?x=1");
  BOOST_TEST(a.value().host_header() == "daemon.example:8443");
  auto b = node_endpoint::parse("wss://daemon.example");
  BOOST_TEST_REQUIRE(b.has_value());
  BOOST_TEST(b.value().port == 443);  // the default port of wss://
  BOOST_TEST(b.value().host_header() == "daemon.example");
  BOOST_TEST((b.value() == node_endpoint::wss("daemon.example", 443)));
  BOOST_TEST(!(node_endpoint::wss("h", 1) == node_endpoint::ws("h", 1)));
}

BOOST_AUTO_TEST_CASE(every_request_kind_over_tls) {
  tls_env e;
  auto sub = e.node().subscribe();
  auto c = run(e.ioc, e.node().connect());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().what()));
  BOOST_TEST(e.node().endpoint().tls);
  every_request_kind(e.ioc, e.node(), "tls-task-1");
  // Heartbeats both ways keep working over TLS (the daemon's carry its health).
  const auto sent = e.node().statistics().heartbeats_sent;
  BOOST_TEST(run_until(e.ioc, [&] { return e.node().statistics().heartbeats_sent >= sent + 3; }, 5s));
  BOOST_TEST((e.node().state() == connection_state::connected));
  BOOST_TEST(e.daemon.server()->stats().connections_accepted == 1u);
  BOOST_TEST(e.daemon.server()->stats().tls_handshakes_failed == 0u);
  BOOST_TEST(e.node().statistics().connection_losses == 0u);
  BOOST_TEST(run(e.ioc, e.node().disconnect()).has_value());
  BOOST_TEST(run_until(e.ioc, [&] { return e.daemon.server()->stats().connections == 0u; }, 5s));
}

BOOST_AUTO_TEST_CASE(a_graceful_stop_closes_the_tls_connection_cleanly) {
  auto d = tls_daemon_options();
  d.close_timeout = 10s;  // a connection that did not close cleanly would hold the stop this long
  tls_env e(d);
  event_log log;
  log.attach(e.node());
  BOOST_TEST_REQUIRE(run(e.ioc, e.node().connect()).has_value());
  BOOST_TEST(run(e.ioc, e.node().get_sessions()).has_value());
  const auto t0 = clock_type::now();
  e.daemon.server()->stop();
  // The close handshake (WebSocket close frames, then TLS close_notify both ways) completes:
  // the daemon has stopped long before its close timeout.
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] { return e.daemon.server()->stopped(); }, 5s));
  BOOST_TEST((clock_type::now() - t0 < 5s));
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] { return log.count("disconnected") == 1u; }, 5s));
  std::string why;
  {
    std::lock_guard lock(log.m);
    for (const auto& ev : log.events)
      if (const auto* dis = std::get_if<event::disconnected>(&ev)) why = dis->reason.message;
  }
  BOOST_TEST(contains(why, "code 1001"), why);
  (void)run(e.ioc, e.node().disconnect());
}

BOOST_AUTO_TEST_CASE(a_host_name_verifies_against_the_dns_entry) {
  tls_env e(tls_daemon_options(), tls_node_options(), "localhost");
  auto c = run(e.ioc, e.node().connect());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().what()));
  BOOST_TEST(run(e.ioc, e.node().get_sessions()).has_value());
}

BOOST_AUTO_TEST_CASE(a_context_of_ones_own) {
  tls_env e;
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->load_verify_file(certs().ca_cert);
  auto o = fast_node_options();
  o.tls_context = ctx;
  o.tls.ca_file = "/nonexistent/ignored-with-a-context.pem";  // the context wins
  auto n = e.other(o, tls_endpoint(e.daemon.port()));
  auto c = run(e.ioc, n->connect());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().what()));
  BOOST_TEST(run(e.ioc, n->get_health()).has_value());
  // The context does not make verification optional: a wrong name still fails.
  auto wrong = o;
  wrong.tls.server_name = "not-the-daemon.example";
  auto w = e.other(wrong, tls_endpoint(e.daemon.port()));
  auto [err, took] = failed_connect(e.ioc, *w);
  BOOST_TEST(err == error::tls_handshake_failed, err.what());
  (void)took;
  (void)run(e.ioc, w->disconnect());
  (void)run(e.ioc, n->disconnect());
}

BOOST_AUTO_TEST_CASE(daemon_restarted_the_client_reconnects_over_tls_and_resends) {
  auto d = tls_daemon_options();
  d.response_delay = 1000ms;  // the kill below comes well before any answer leaves
  restartable_daemon daemon(d);
  asio::io_context ioc;
  event_log log;
  daemon_node node(ioc.get_executor(), "n", tls_endpoint(daemon.port()), test_capabilities(), tls_node_options());
  log.attach(node);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  constexpr int n = 5;
  std::vector<session_spawn_request> requests;
  for (int i = 0; i < n; ++i) requests.push_back(make_spawn("restart-" + std::to_string(i)));
  const auto results = spawn_through_a_crash(daemon, ioc, node, std::move(requests));
  for (const auto& r : results) BOOST_TEST(r.has_value(), (r ? "" : r.error().what()));
  BOOST_TEST(node.statistics().resent >= static_cast<std::uint64_t>(n));
  BOOST_TEST(node.statistics().connections == 2u);
  BOOST_TEST(log.count("disconnected") == 1u);
  BOOST_TEST(daemon.server()->live_sessions() == static_cast<std::size_t>(n));
  // The new connection is TLS too: the restarted daemon only speaks TLS.
  BOOST_TEST(daemon.server()->stats().connections_accepted == 1u);
}

BOOST_AUTO_TEST_CASE(an_untrusted_ca_fails_through_the_backoff_path_and_verify_peer_off_connects) {
  tls_env e;
  auto o = fast_node_options();
  o.tls.ca_file = certs().other_ca_cert;
  o.max_attempts = 3;
  event_log log;
  auto n = e.other(o, tls_endpoint(e.daemon.port()));
  log.attach(*n);
  auto [err, took] = failed_connect(e.ioc, *n);
  BOOST_TEST(err == error::tls_handshake_failed, err.what());
  BOOST_TEST(contains(err.message, "certificate verify failed"), err.message);
  BOOST_TEST(contains(err.message, "unable to get local issuer certificate"), err.message);
  BOOST_TEST((took < 2000ms));
  // The normal reconnect path: attempts with backoff, then `failed`.
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] { return n->state() == connection_state::failed; }, 10s));
  BOOST_TEST(log.count("reconnecting") == 3u);
  BOOST_TEST(log.count("reconnect-failed") == 1u);
  const auto errors = log.errors();
  BOOST_TEST(errors.size() == 4u);  // the first attempt and three reconnection attempts
  for (const auto& x : errors) BOOST_TEST(x == error::tls_handshake_failed, x.what());
  BOOST_TEST(e.daemon.server()->stats().connections_accepted == 0u);

  // The same untrusted daemon with verification off.
  auto insecure = o;
  insecure.tls.verify_peer = false;
  auto m = e.other(insecure, tls_endpoint(e.daemon.port()));
  auto c = run(e.ioc, m->connect());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().what()));
  BOOST_TEST(run(e.ioc, m->get_sessions()).has_value());
  (void)run(e.ioc, m->disconnect());
}

BOOST_AUTO_TEST_CASE(a_host_name_mismatch_fails) {
  tls_env e;
  auto o = tls_node_options();
  o.tls.server_name = "not-the-daemon.example";
  o.max_attempts = 0;
  auto n = e.other(o, tls_endpoint(e.daemon.port()));
  auto [err, took] = failed_connect(e.ioc, *n);
  BOOST_TEST(err == error::tls_handshake_failed, err.what());
  BOOST_TEST(contains(err.message, "hostname mismatch"), err.message);
  (void)took;
  (void)run(e.ioc, n->disconnect());

  auto ip = tls_node_options();
  ip.tls.server_name = "127.0.0.2";  // an address the certificate does not name
  ip.max_attempts = 0;
  auto m = e.other(ip, tls_endpoint(e.daemon.port()));
  auto [err2, took2] = failed_connect(e.ioc, *m);
  BOOST_TEST(err2 == error::tls_handshake_failed, err2.what());
  BOOST_TEST(contains(err2.message, "IP address mismatch"), err2.message);
  (void)took2;
  (void)run(e.ioc, m->disconnect());
  BOOST_TEST(e.daemon.server()->stats().connections_accepted == 0u);
}

BOOST_AUTO_TEST_CASE(a_plain_client_on_a_tls_daemon_fails_quickly) {
  tls_env e;
  auto o = fast_node_options();
  o.connect_timeout = 3000ms;
  o.max_attempts = 0;
  auto n = e.other(o, node_endpoint::ws("127.0.0.1", e.daemon.port()));
  auto [err, took] = failed_connect(e.ioc, *n);
  BOOST_TEST(err == error::connect_failed, err.what());
  BOOST_TEST((took < 2000ms), "took " << std::chrono::duration_cast<milliseconds>(took).count() << " ms");
  (void)run(e.ioc, n->disconnect());
  BOOST_TEST(run_until(e.ioc, [&] { return e.daemon.server()->stats().tls_handshakes_failed >= 1u; }, 5s));
  // The daemon goes on serving TLS clients.
  BOOST_TEST_REQUIRE(run(e.ioc, e.node().connect()).has_value());
  BOOST_TEST(run(e.ioc, e.node().get_health()).has_value());
}

BOOST_AUTO_TEST_CASE(a_tls_client_on_a_plain_daemon_fails_quickly) {
  restartable_daemon daemon;  // plain ws://
  asio::io_context ioc;
  auto o = tls_node_options();
  o.connect_timeout = 3000ms;
  o.max_attempts = 0;
  daemon_node node(ioc.get_executor(), "n", tls_endpoint(daemon.port()), test_capabilities(), o);
  auto [err, took] = failed_connect(ioc, node);
  BOOST_TEST(err == error::tls_handshake_failed, err.what());
  BOOST_TEST(contains(err.message, "the TLS handshake with wss://127.0.0.1:"), err.message);
  BOOST_TEST((took < 2000ms), "took " << std::chrono::duration_cast<milliseconds>(took).count() << " ms");
  (void)run(ioc, node.disconnect());
  // A plain client still works there.
  daemon_node plain(ioc.get_executor(), "p", daemon.endpoint(), test_capabilities(), fast_node_options());
  BOOST_TEST(run(ioc, plain.connect()).has_value());
  (void)run(ioc, plain.disconnect());
}

BOOST_AUTO_TEST_CASE(a_silent_peer_times_out_within_the_connect_timeout) {
  // A listener that accepts TCP connections (the kernel does) and never says anything: the
  // TLS handshake is bounded by the connect timeout.
  asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto o = tls_node_options();
  o.connect_timeout = 300ms;
  o.max_attempts = 0;
  daemon_node node(ioc.get_executor(), "n", tls_endpoint(silent.local_endpoint().port()), test_capabilities(), o);
  auto [err, took] = failed_connect(ioc, node);
  BOOST_TEST(err == error::connect_timeout, err.what());
  BOOST_TEST(contains(err.message, "TLS handshake"), err.message);
  BOOST_TEST((took >= 300ms));
  BOOST_TEST((took < 2000ms));
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_CASE(garbage_and_stalled_handshakes_cost_only_their_connection) {
  auto d = tls_daemon_options();
  d.handshake_timeout = 500ms;
  log_lines daemon_log;
  d.log = daemon_log.sink();
  tls_env e(d);
  BOOST_TEST_REQUIRE(run(e.ioc, e.node().connect()).has_value());

  // Four raw TCP clients: silent; random bytes; plain HTTP; the start of a TLS record, then
  // nothing. Each records when the daemon closed it.
  static const char garbage[] = "\x13\x37\x00\xff garbage garbage garbage\r\n\r\n";
  const std::vector<std::string> sends{
      "", std::string(garbage, sizeof garbage - 1),
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      std::string("\x16\x03\x01\x02\x00", 5)};
  using closed_times = std::vector<std::optional<clock_type::time_point>>;
  auto closed = std::make_shared<closed_times>(sends.size());
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < sends.size(); ++i) {
    auto s = std::make_shared<tcp::socket>(e.ioc);
    s->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), e.daemon.port()));
    if (!sends[i].empty()) asio::write(*s, asio::buffer(sends[i]));
    asio::co_spawn(e.ioc, read_until_closed(s, closed, i), asio::detached);
  }
  // Meanwhile the TLS node works, and another one connects.
  for (int i = 0; i < 5; ++i) BOOST_TEST(run(e.ioc, e.node().get_sessions()).has_value());
  auto second = e.other(tls_node_options(), tls_endpoint(e.daemon.port()));
  BOOST_TEST_REQUIRE(run(e.ioc, second->connect()).has_value());
  BOOST_TEST(run(e.ioc, second->get_health()).has_value());

  // Every raw connection is closed by the daemon: at once for garbage, at the handshake
  // deadline for silence.
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] {
    return std::all_of(closed->begin(), closed->end(), [](const auto& c) { return c.has_value(); });
  }, 5s));
  for (std::size_t i = 0; i < closed->size(); ++i) {
    const auto after = std::chrono::duration_cast<milliseconds>(*(*closed)[i] - t0);
    BOOST_TEST_CONTEXT("raw client " << i << " closed after " << after.count() << " ms") {
      if (i == 0 || i == 3)
        BOOST_TEST((after >= 400ms));  // the handshake deadline (500 ms), not before
      BOOST_TEST((after < 3000ms));
    }
  }
  BOOST_TEST(daemon_log.count("TLS handshake failed") >= 2u);
  // All four counted, the two stalled ones too (the watchdog ended their handshake).
  BOOST_TEST(run_until(e.ioc, [&] { return e.daemon.server()->stats().tls_handshakes_failed == 4u; }, 5s),
             "counted " << e.daemon.server()->stats().tls_handshakes_failed);
  BOOST_TEST(daemon_log.count("no TLS handshake and WebSocket upgrade within the handshake timeout") >= 2u);
  // The nodes are still connected and working.
  BOOST_TEST((e.node().state() == connection_state::connected));
  BOOST_TEST(e.node().statistics().connection_losses == 0u);
  BOOST_TEST(run(e.ioc, e.node().get_node_info()).has_value());
  BOOST_TEST(e.daemon.server()->stats().connections == 2u);
  (void)run(e.ioc, second->disconnect());
}

BOOST_AUTO_TEST_CASE(mutual_tls_requires_a_client_certificate) {
  tls_env e(tls_daemon_options(true));
  // No client certificate: refused (in the handshake with TLS 1.2; with TLS 1.3 by an alert
  // on the first read).
  auto o = tls_node_options();
  o.max_attempts = 0;
  auto none = e.other(o, tls_endpoint(e.daemon.port()));
  auto [err, took] = failed_connect(e.ioc, *none);
  BOOST_TEST(err == error::tls_handshake_failed, err.what());
  BOOST_TEST((took < 2000ms));
  (void)run(e.ioc, none->disconnect());

  // A certificate from another CA: refused too.
  auto other = o;
  other.tls.certificate_file = certs().other_client_cert;
  other.tls.private_key_file = certs().other_client_key;
  auto stranger = e.other(other, tls_endpoint(e.daemon.port()));
  auto [err2, took2] = failed_connect(e.ioc, *stranger);
  BOOST_TEST(err2 == error::tls_handshake_failed, err2.what());
  (void)took2;
  (void)run(e.ioc, stranger->disconnect());
  BOOST_TEST(e.daemon.server()->stats().connections_accepted == 0u);

  // With a certificate signed by the daemon's client CA.
  auto with = tls_node_options();
  with.tls.certificate_file = certs().client_cert;
  with.tls.private_key_file = certs().client_key;
  auto good = e.other(with, tls_endpoint(e.daemon.port()));
  auto c = run(e.ioc, good->connect());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().what()));
  every_request_kind(e.ioc, *good, "mtls-task");
  (void)run(e.ioc, good->disconnect());
}

BOOST_AUTO_TEST_CASE(the_token_is_checked_over_tls) {
  auto d = tls_daemon_options();
  d.token = "s3cret";
  tls_env e(d);
  auto o = tls_node_options();
  o.max_attempts = 0;
  auto n = e.other(o, tls_endpoint(e.daemon.port()));
  auto [err, took] = failed_connect(e.ioc, *n);
  BOOST_TEST(err == error::unauthorized, err.what());
  (void)took;
  (void)run(e.ioc, n->disconnect());
  auto with = tls_node_options();
  with.bearer_token = "s3cret";
  auto good = e.other(with, tls_endpoint(e.daemon.port()));
  BOOST_TEST(run(e.ioc, good->connect()).has_value());
  (void)run(e.ioc, good->disconnect());
}

BOOST_AUTO_TEST_SUITE_END()

// ----- Files that cannot be used ----------------------------------------------------------

BOOST_AUTO_TEST_SUITE(bad_files)

namespace {

/// start() of a daemon with these TLS settings: its error.
error_info start_error(daemon_tls_options t) {
  asio::io_context ioc;
  auto o = test_daemon_options();
  o.tls = std::move(t);
  daemon_server server(ioc, o);
  auto r = server.start();
  BOOST_TEST_REQUIRE(!r.has_value());
  return r.error();
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_daemon_refuses_to_start_with_a_clear_error) {
  const auto& c = certs();
  const std::string missing = (c.dir / "missing.pem").string();
  struct bad_case {
    daemon_tls_options t;
    std::string says;
  };
  const std::vector<bad_case> cases{
      {{missing, c.server_key, ""}, "the TLS certificate chain '" + missing + "' does not exist"},
      {{c.server_cert, missing, ""}, "the TLS private key '" + missing + "' does not exist"},
      {{c.garbage, c.server_key, ""}, "cannot use the TLS certificate chain '" + c.garbage + "'"},
      {{c.server_cert, c.garbage, ""}, "cannot use the TLS private key '" + c.garbage + "'"},
      {{c.server_cert, c.client_key, ""}, "does not match the certificate"},
      {{c.server_cert, c.server_key, missing}, "the client CA file '" + missing + "' does not exist"},
      {{c.server_cert, c.server_key, c.garbage}, "cannot use the client CA file '" + c.garbage + "'"},
      {{c.dir.string(), c.server_key, ""}, "is not a file"},
  };
  for (const auto& bc : cases) {
    const error_info e = start_error(bc.t);
    BOOST_TEST_CONTEXT(bc.says) {
      BOOST_TEST(e == error::tls_config, e.what());
      BOOST_TEST(contains(e.message, bc.says), e.message);
      BOOST_TEST(e.message.find('\n') == std::string::npos);
    }
  }
  // Missing names are bad options (validate).
  const error_info v = start_error({c.server_cert, "", ""});
  BOOST_TEST(v == error::invalid_argument, v.what());
  // And the good files start.
  asio::io_context ioc;
  daemon_server ok(ioc, tls_daemon_options(true));
  BOOST_TEST(ok.start().has_value());
  ok.stop();
  BOOST_TEST(run_until(ioc, [&] { return ok.stopped(); }, 5s));
}

BOOST_AUTO_TEST_CASE(the_node_fails_connect_at_once_with_a_clear_error) {
  const auto& c = certs();
  restartable_daemon daemon(tls_daemon_options());
  asio::io_context ioc;
  const std::string missing = (c.dir / "missing-ca.pem").string();
  struct bad_case {
    node_tls_options t;
    std::string says;
  };
  auto with = [](auto f) {
    node_tls_options t;
    f(t);
    return t;
  };
  const std::vector<bad_case> cases{
      {with([&](node_tls_options& t) { t.ca_file = missing; }), "the CA file '" + missing + "' does not exist"},
      {with([&](node_tls_options& t) { t.ca_file = c.garbage; }), "cannot use the CA file '" + c.garbage + "'"},
      {with([&](node_tls_options& t) { t.ca_directory = c.ca_cert; }), "is not a directory"},
      {with([&](node_tls_options& t) { t.certificate_file = c.client_cert; }), "needs its private key"},
      {with([&](node_tls_options& t) { t.private_key_file = c.client_key; }), "needs its certificate"},
      {with([&](node_tls_options& t) {
         t.certificate_file = c.client_cert;
         t.private_key_file = c.server_key;
       }),
       "does not match the certificate"},
      {with([&](node_tls_options& t) {
         t.certificate_file = missing;
         t.private_key_file = c.client_key;
       }),
       "the client certificate '" + missing + "' does not exist"},
  };
  for (const auto& bc : cases) {
    BOOST_TEST_CONTEXT(bc.says) {
      auto o = fast_node_options();
      o.tls = bc.t;
      event_log log;
      daemon_node node(ioc.get_executor(), "n", tls_endpoint(daemon.port()), test_capabilities(), o);
      log.attach(node);
      const auto t0 = clock_type::now();
      auto r = run(ioc, node.connect());
      BOOST_TEST_REQUIRE(!r.has_value());
      BOOST_TEST(r.error() == error::tls_config, r.error().what());
      BOOST_TEST(contains(r.error().message, bc.says), r.error().message);
      BOOST_TEST((clock_type::now() - t0 < 1000ms));
      // Nothing was started: no attempt, no backoff; requests fail at once.
      BOOST_TEST((node.state() == connection_state::disconnected));
      BOOST_TEST(run_until(ioc, [&] { return log.count("error") == 1u; }, 2s));
      BOOST_TEST(log.count("connecting") == 0u);
      auto req = run(ioc, node.get_sessions());
      BOOST_TEST(req.error() == error::not_connected);
    }
  }
  BOOST_TEST(daemon.server()->stats().connections_accepted == 0u);
  // A ws:// endpoint ignores the TLS settings.
  restartable_daemon plain;
  auto o = fast_node_options();
  o.tls.ca_file = missing;
  daemon_node node(ioc.get_executor(), "n", plain.endpoint(), test_capabilities(), o);
  BOOST_TEST(run(ioc, node.connect()).has_value());
  (void)run(ioc, node.disconnect());
  drain(ioc);
}

BOOST_AUTO_TEST_SUITE_END()

// ----- The command line --------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(cli)

namespace {

struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs `neolith ARGS` (stdin: /dev/null); the test fails if it has not exited within `limit`.
run_result run_exe(const std::vector<std::string>& args, milliseconds limit = 10'000ms) {
  child_process p(neolith_exe(), args);
  auto code = p.wait_exit(limit);
  BOOST_TEST_REQUIRE(code.has_value(), "neolith did not exit within the limit; stderr: " << p.err());
  return {*code, p.out(), p.err()};
}

/// `neolith node URL ARGS... COMMAND` with fast timings.
run_result run_node(const std::string& url, std::vector<std::string> args) {
  std::vector<std::string> a{"node", url, "--connect-timeout-ms=2000", "--request-timeout-ms=5000",
                             "--backoff-base-ms=20", "--backoff-max-ms=50"};
  a.insert(a.end(), args.begin(), args.end());
  return run_exe(a);
}

/// Starts `neolith daemon ARGS`; returns the port of its "listening on wss://..." line.
std::uint16_t start_tls_daemon(child_process& p) {
  auto line = p.read_line(10'000ms);
  BOOST_TEST_REQUIRE(line.has_value(), "no listening line; stderr: " << p.err());
  static const std::regex re(R"(^listening on wss://127\.0\.0\.1:([0-9]+)$)");
  std::smatch m;
  BOOST_TEST_REQUIRE(std::regex_match(*line, m, re), "unexpected line: " << *line);
  return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

void one_error_line(const run_result& r, const std::string& prefix) {
  BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  BOOST_TEST(r.err.starts_with(prefix), r.err);
  BOOST_TEST(r.out.empty(), r.out);
}

void stop(child_process& p) {
  p.signal(SIGTERM);
  auto code = p.wait_exit(5000ms);
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0, p.err());
}

}  // namespace

BOOST_AUTO_TEST_CASE(daemon_and_node_over_wss_end_to_end) {
  const auto& c = certs();
  child_process d(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--node-id", "tls-cli", "--tls-cert",
                                  c.server_cert, "--tls-key", c.server_key});
  const std::uint16_t port = start_tls_daemon(d);
  const std::string url = "wss://127.0.0.1:" + std::to_string(port);

  auto info = run_node(url, {"--tls-ca", c.ca_cert, "info"});
  BOOST_TEST_REQUIRE(info.code == 0, info.err);
  BOOST_TEST(json::parse(info.out).as_object().at("nodeId").as_string() == "tls-cli");

  auto spawned = run_node(url, {"--tls-ca=" + c.ca_cert, "spawn", "--type", "claude-code", "--description", "over tls"});
  BOOST_TEST_REQUIRE(spawned.code == 0, spawned.err);
  const std::string id(json::parse(spawned.out).as_object().at("id").as_string());
  auto got = run_node("wss://localhost:" + std::to_string(port), {"--tls-ca", c.ca_cert, "get", id});
  BOOST_TEST_REQUIRE(got.code == 0, got.err);
  BOOST_TEST(json::parse(got.out).as_object().at("id").as_string() == id);

  // Untrusted (the system's CA store does not know the test CA), then with verification off.
  auto untrusted = run_node(url, {"--max-attempts=0", "health"});
  BOOST_TEST(untrusted.code == 1);
  one_error_line(untrusted, "neolith node: ");
  BOOST_TEST(contains(untrusted.err, "tls_handshake_failed"), untrusted.err);
  BOOST_TEST(contains(untrusted.err, "certificate verify failed"), untrusted.err);
  auto insecure = run_node(url, {"--tls-insecure", "health"});
  BOOST_TEST(insecure.code == 0, insecure.err);

  // The wrong name.
  auto wrong = run_node(url, {"--tls-ca", c.ca_cert, "--tls-server-name", "elsewhere.example", "--max-attempts=0", "health"});
  BOOST_TEST(wrong.code == 1);
  BOOST_TEST(contains(wrong.err, "hostname mismatch"), wrong.err);

  // A plain client on the TLS daemon fails (exit 1), quickly.
  const auto t0 = clock_type::now();
  auto plain = run_node("ws://127.0.0.1:" + std::to_string(port), {"--max-attempts=0", "health"});
  BOOST_TEST(plain.code == 1);
  one_error_line(plain, "neolith node: ");
  BOOST_TEST((clock_type::now() - t0 < 5000ms));

  // --jsonl over wss.
  child_process j(neolith_exe(), {"node", url, "--tls-ca", c.ca_cert, "--jsonl"}, child_process::pipe_stdin);
  BOOST_TEST_REQUIRE(j.write_stdin("{\"id\":1,\"op\":\"get_sessions\"}\n"));
  j.close_stdin();
  auto jcode = j.wait_exit(10'000ms);
  BOOST_TEST_REQUIRE(jcode.has_value());
  BOOST_TEST(*jcode == 0, j.err());
  BOOST_TEST(contains(j.out(), "\"id\":1,\"ok\":true"), j.out());
  stop(d);
}

BOOST_AUTO_TEST_CASE(mutual_tls_from_the_command_line) {
  const auto& c = certs();
  child_process d(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--quiet", "--tls-cert", c.server_cert,
                                  "--tls-key", c.server_key, "--tls-client-ca", c.ca_cert});
  const std::uint16_t port = start_tls_daemon(d);
  const std::string url = "wss://127.0.0.1:" + std::to_string(port);
  auto without = run_node(url, {"--tls-ca", c.ca_cert, "--max-attempts=0", "health"});
  BOOST_TEST(without.code == 1);
  one_error_line(without, "neolith node: ");
  BOOST_TEST(contains(without.err, "tls_handshake_failed"), without.err);
  auto with = run_node(url, {"--tls-ca", c.ca_cert, "--tls-cert", c.client_cert, "--tls-key", c.client_key, "sessions"});
  BOOST_TEST(with.code == 0, with.err);
  BOOST_TEST(json::parse(with.out).is_array());
  stop(d);
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_2_and_bad_files_exit_1) {
  const auto& c = certs();
  const std::string missing = (c.dir / "nope.pem").string();
  // The daemon: bad usage.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"daemon", "--tls-cert", c.server_cert},
        std::vector<std::string>{"daemon", "--tls-key", c.server_key},
        std::vector<std::string>{"daemon", "--tls-client-ca", c.ca_cert},
        std::vector<std::string>{"daemon", "--tls-cert="}}) {
    auto r = run_exe(args);
    BOOST_TEST(r.code == 2, args[1] << ": " << r.err);
    one_error_line(r, "neolith daemon: ");
  }
  // The daemon: files that cannot be used.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"daemon", "--listen", "127.0.0.1:0", "--tls-cert", missing, "--tls-key", c.server_key},
        std::vector<std::string>{"daemon", "--listen", "127.0.0.1:0", "--tls-cert", c.server_cert, "--tls-key", c.client_key},
        std::vector<std::string>{"daemon", "--listen", "127.0.0.1:0", "--tls-cert", c.server_cert, "--tls-key",
                                 c.server_key, "--tls-client-ca", c.garbage}}) {
    auto r = run_exe(args);
    BOOST_TEST(r.code == 1, args[4] << ": " << r.err);
    one_error_line(r, "neolith daemon: ");
    BOOST_TEST(contains(r.err, "(tls_config)"), r.err);
  }
  // The node: bad usage.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"node", "ws://127.0.0.1:1", "--tls-ca", c.ca_cert, "health"},
        std::vector<std::string>{"node", "ws://127.0.0.1:1", "--tls-insecure", "health"},
        std::vector<std::string>{"node", "wss://127.0.0.1:1", "--tls-cert", c.client_cert, "health"},
        std::vector<std::string>{"node", "wss://127.0.0.1:1", "--tls-key", c.client_key, "health"},
        std::vector<std::string>{"node", "wss://127.0.0.1:1", "--tls-insecure=yes", "health"}}) {
    auto r = run_exe(args);
    BOOST_TEST(r.code == 2, args[2] << ": " << r.err);
    one_error_line(r, "neolith node: ");
  }
  // The node: a file that cannot be used (nothing listens there: the error comes first).
  auto r = run_exe({"node", "wss://127.0.0.1:1", "--tls-ca", missing, "health"});
  BOOST_TEST(r.code == 1, r.err);
  one_error_line(r, "neolith node: ");
  BOOST_TEST(contains(r.err, "(tls_config)"), r.err);
  BOOST_TEST(contains(r.err, missing), r.err);
  // Help texts document the options.
  auto dh = run_exe({"daemon", "--help"});
  BOOST_TEST(dh.code == 0);
  for (const char* o : {"--tls-cert", "--tls-key", "--tls-client-ca"}) BOOST_TEST(contains(dh.out, o), o);
  auto nh = run_exe({"node", "--help"});
  BOOST_TEST(nh.code == 0);
  for (const char* o : {"--tls-ca", "--tls-insecure", "--tls-cert", "--tls-key", "--tls-server-name"})
    BOOST_TEST(contains(nh.out, o), o);
}

BOOST_AUTO_TEST_SUITE_END()
