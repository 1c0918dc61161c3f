// Bad input over the wire: each gets the answer of protocol-v1.md, and afterwards the same
// connection (when it stays open) and a neighbour connection still work; the daemon never
// crashes, hangs or lets one peer disturb another.
#define BOOST_TEST_MODULE daemon_bad_input
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/raw_ws.hpp"
#include "support/wait.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/json.hpp>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
namespace websocket = boost::beast::websocket;

namespace {

/// The connection answers a request, and so does a fresh neighbour.
void check_alive(daemon_fixture& d, ws_client* same) {
  if (same) {
    auto a = same->request(simple_request("get_health"), "alive-check");
    BOOST_TEST_REQUIRE(a.has_value(), "the connection no longer answers");
    BOOST_TEST(str(*a, "type") == "health_response");
  }
  auto n = d.connect();
  auto b = n->request(simple_request("get_node_info"), "neighbour-check");
  BOOST_TEST_REQUIRE(b.has_value(), "a neighbour connection does not work");
  BOOST_TEST(str(*b, "type") == "node_info");
}

json::object error_answer(ws_client& c, std::string_view text) {
  BOOST_TEST_REQUIRE(!c.send_text(text));
  auto a = c.next_answer();
  BOOST_TEST_REQUIRE(a.has_value(), "no answer to: " << text.substr(0, 100));
  BOOST_TEST(str(*a, "type") == "error");
  BOOST_TEST(!str(*a, "error").empty());
  return *a;
}

/// A client text frame built by hand (masked with a zero key), for raw-socket peers.
std::string client_text_frame(std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>(0x81));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>((payload.size() >> 8) & 0xff));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  }
  f.append(4, '\0');
  f.append(payload);
  return f;
}

/// A raw TCP peer that performs the upgrade by hand and then only writes.
struct raw_peer {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock{ioc};
  bool upgrade(std::uint16_t port) {
    boost::system::error_code ec;
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return false;
    const std::string req =
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    boost::asio::write(sock, boost::asio::buffer(req), ec);
    if (ec) return false;
    std::string head;
    boost::asio::read_until(sock, boost::asio::dynamic_buffer(head), "\r\n\r\n", ec);
    return !ec && head.starts_with("HTTP/1.1 101");
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(malformed_messages_get_error_answers) {
  daemon_fixture d;
  auto c = d.connect();

  auto a = error_answer(*c, "{\"type\": ");
  BOOST_TEST(str(a, "code") == "invalid_json");
  BOOST_TEST(!a.contains("requestId"));

  a = error_answer(*c, "not json at all");
  BOOST_TEST(str(a, "code") == "invalid_json");

  a = error_answer(*c, "[1,2,3]");
  BOOST_TEST(str(a, "code") == "invalid_message");

  a = error_answer(*c, "\"a string\"");
  BOOST_TEST(str(a, "code") == "invalid_message");

  a = error_answer(*c, R"({"requestId":"no-type"})");
  BOOST_TEST(str(a, "code") == "invalid_message");
  BOOST_TEST(str(a, "requestId") == "no-type");

  a = error_answer(*c, R"({"type":"get_session","requestId":"r1"})");
  BOOST_TEST(str(a, "code") == "invalid_message");
  BOOST_TEST(str(a, "requestId") == "r1");
  BOOST_TEST(str(a, "requestType") == "get_session");

  a = error_answer(*c, R"({"type":"get_session","requestId":"r2","sessionId":5})");
  BOOST_TEST(str(a, "code") == "invalid_message");
  BOOST_TEST(str(a, "requestId") == "r2");

  a = error_answer(*c, R"({"type":"spawn_session","requestId":"r3","request":{"orchestratorId":"o","sessionType":"claude-code","task":{"id":"t"}}})");
  BOOST_TEST(str(a, "code") == "invalid_message");
  BOOST_TEST(str(a, "requestId") == "r3");

  a = error_answer(*c, R"({"type":"spawn_session","requestId":"r4","request":{"orchestratorId":"o","sessionType":"gpt","task":{}}})");
  BOOST_TEST(str(a, "code") == "invalid_message");

  a = error_answer(*c, R"({"type":"get_health","requestId":42})");
  BOOST_TEST(str(a, "code") == "invalid_message");
  BOOST_TEST(!a.contains("requestId"));  // not readable: not a string

  a = error_answer(*c, R"({"type":"launch_rockets","requestId":"r5"})");
  BOOST_TEST(str(a, "code") == "unknown_type");
  BOOST_TEST(str(a, "requestId") == "r5");

  a = error_answer(*c, R"({"type":7,"requestId":"r6"})");
  BOOST_TEST(str(a, "code") == "invalid_message");
  BOOST_TEST(str(a, "requestId") == "r6");

  // Nested 10,000 deep: invalid_json, no crash.
  std::string deep = R"({"type":"get_health","requestId":"deep","x":)";
  deep.append(10'000, '[');
  deep.append(10'000, ']');
  deep.push_back('}');
  a = error_answer(*c, deep);
  BOOST_TEST(str(a, "code") == "invalid_json");

  std::string deep_objects;
  for (int i = 0; i < 10'000; ++i) deep_objects += "{\"a\":";
  deep_objects += "1";
  deep_objects.append(10'000, '}');
  a = error_answer(*c, deep_objects);
  BOOST_TEST(str(a, "code") == "invalid_json");

  // Unknown extra fields are ignored.
  auto ok = c->request(json::parse(R"({"type":"get_health","future":{"x":[1,2]}})").as_object(), "extra");
  BOOST_TEST(str(*ok, "type") == "health_response");

  check_alive(d, c.get());
  BOOST_TEST(d.server().stats().decode_errors >= 12u);
}

BOOST_AUTO_TEST_CASE(binary_frame_is_refused_and_connection_stays) {
  daemon_fixture d;
  auto c = d.connect();
  BOOST_TEST_REQUIRE(!c->send_binary(R"({"type":"get_health","requestId":"bin"})"));
  auto a = c->next_answer();
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(str(*a, "type") == "error");
  BOOST_TEST(str(*a, "code") == "invalid_message");
  BOOST_TEST(!a->contains("requestId"));
  check_alive(d, c.get());
}

BOOST_AUTO_TEST_CASE(invalid_utf8_closes_with_1007) {
  daemon_fixture d;
  auto bystander = d.connect();
  auto c = d.connect();
  const std::string bad = "{\"type\":\"get_health\",\"requestId\":\"\xff\xfe\"}";
  BOOST_TEST_REQUIRE(!c->send_text(bad));
  BOOST_TEST(c->wait_closed());
  BOOST_TEST(c->close_reason().code == static_cast<std::uint16_t>(websocket::close_code::bad_payload));
  check_alive(d, bystander.get());
}

BOOST_AUTO_TEST_CASE(oversized_frame_closes_with_1009) {
  auto o = test_daemon_options();
  o.max_message_bytes = 64 * 1024;
  daemon_fixture d(o);
  auto bystander = d.connect();
  auto c = d.connect();
  // Exactly at the limit is fine...
  std::string at_limit = R"({"type":"get_health","requestId":"big","pad":")";
  at_limit.append(64 * 1024 - at_limit.size() - 2, 'x');
  at_limit += "\"}";
  BOOST_TEST_REQUIRE(at_limit.size() == 64u * 1024);
  auto ok = c->request(json::parse(at_limit).as_object(), "big");
  BOOST_TEST_REQUIRE(ok.has_value());
  BOOST_TEST(str(*ok, "type") == "health_response");
  // ...one byte more is not.
  std::string over = at_limit;
  over.insert(over.size() - 2, "y");
  BOOST_TEST_REQUIRE(!c->send_text(over));
  BOOST_TEST(c->wait_closed());
  BOOST_TEST(c->close_reason().code == static_cast<std::uint16_t>(websocket::close_code::too_big));
  check_alive(d, bystander.get());
}

BOOST_AUTO_TEST_CASE(a_frame_far_above_the_limit_still_gets_1009) {
  // One frame of 2 MiB, then 16 MiB, against the default 1 MiB limit: the daemon refuses it at
  // its header while the rest is still arriving. The close frame must reach the peer (a socket
  // closed with unread bytes sends a reset, and the reset would discard the close frame).
  daemon_fixture d;
  BOOST_TEST_REQUIRE(test_daemon_options().max_message_bytes == 1024u * 1024);
  auto bystander = d.connect();
  for (const bool read_while_writing : {true, false}) {
    for (const std::size_t mib : {2u, 16u}) {
      const auto r = send_oversized_frame(d.port(), mib << 20, read_while_writing);
      BOOST_TEST_CONTEXT(mib << " MiB, reading " << (read_while_writing ? "while writing" : "after writing")) {
        BOOST_TEST_REQUIRE(r.upgraded, r.problem);
        // The daemon reads (and drops) the rest of the frame: the write is not cut by a reset.
        BOOST_TEST(r.write_completed, r.problem);
        BOOST_TEST(r.close_code == static_cast<std::uint16_t>(websocket::close_code::too_big), r.problem);
      }
    }
  }
  check_alive(d, bystander.get());
}

BOOST_AUTO_TEST_CASE(plain_http_gets_426_and_garbage_gets_400) {
  daemon_fixture d;
  auto r = http_get(d.port());
  BOOST_TEST(r.status == 426);
  BOOST_TEST(r.headers["Upgrade"] == "websocket");
  const std::string garbage = raw_exchange(d.port(), "\x16\x03\x01 this is not HTTP\r\n\r\n");
  BOOST_TEST(garbage.starts_with("HTTP/1.1 400"));
  // A broken upgrade (no key) is refused by the handshake.
  const std::string broken = raw_exchange(
      d.port(), "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  BOOST_TEST(broken.starts_with("HTTP/1.1 4"));
  check_alive(d, nullptr);
  BOOST_TEST(d.server().stats().http_refused >= 2u);
}

BOOST_AUTO_TEST_CASE(silent_tcp_peer_is_cut_after_the_handshake_timeout) {
  auto o = test_daemon_options();
  o.handshake_timeout = std::chrono::milliseconds(200);
  daemon_fixture d(o);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string got = raw_exchange(d.port(), "", 5s);  // connects, sends nothing, reads until EOF
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(got.empty());
  BOOST_TEST((took >= std::chrono::milliseconds(150)));
  BOOST_TEST((took < std::chrono::milliseconds(3000)));
  check_alive(d, nullptr);
}

BOOST_AUTO_TEST_CASE(clients_vanishing_mid_request) {
  auto o = test_daemon_options();
  o.response_delay = std::chrono::milliseconds(50);
  daemon_fixture d(o);
  auto keeper = d.connect();
  for (int i = 0; i < 20; ++i) {
    auto c = d.connect();
    BOOST_TEST_REQUIRE(!c->send_json([&] {
      auto r = spawn_request();
      r["requestId"] = "vanish-" + std::to_string(i);
      return r;
    }()));
    BOOST_TEST_REQUIRE(!c->send_json(simple_request("get_sessions")));
    c->drop();
  }
  // The daemon notices every vanished peer; the keeper is untouched.
  BOOST_TEST(wait_until([&] { return d.server().stats().connections == 1u; }, 5s));
  auto a = keeper->request(simple_request("get_sessions"), "k");
  BOOST_TEST_REQUIRE(a.has_value());
  // The spawns that were read before the peer vanished were executed once; their answers
  // can be fetched again by requestId.
  BOOST_TEST(wait_until([&] { return d.server().stats().spawns_executed == 20u; }, 5s));
  auto again = keeper->request(spawn_request(), "vanish-0");
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST(str(*again, "type") == "session_spawned");
  BOOST_TEST(d.server().stats().spawns_executed == 20u);
  BOOST_TEST(d.server().stats().replays_served == 1u);
  check_alive(d, keeper.get());
}

BOOST_AUTO_TEST_CASE(pipelined_flood_is_fully_answered) {
  daemon_fixture d;
  auto c = d.connect();
  constexpr int n = 3000;
  for (int i = 0; i < n; ++i) {
    json::object r = simple_request(i % 2 ? "get_health" : "heartbeat");
    r["requestId"] = std::to_string(i);
    BOOST_TEST_REQUIRE(!c->send_json(r));
  }
  std::vector<bool> seen(n, false);
  int got = 0;
  while (got < n) {
    auto a = c->next_answer(10s);
    BOOST_TEST_REQUIRE(a.has_value(), "only " << got << " answers");
    const int id = std::stoi(str(*a, "requestId"));
    BOOST_TEST_REQUIRE(!seen[static_cast<std::size_t>(id)]);
    seen[static_cast<std::size_t>(id)] = true;
    ++got;
  }
  check_alive(d, c.get());
}

BOOST_AUTO_TEST_CASE(peer_that_never_reads_is_held_back_not_buffered) {
  auto o = test_daemon_options();
  o.max_outbound_bytes = 32 * 1024;
  o.max_outbound_bytes_hard = 1024 * 1024;
  daemon_fixture d(o);
  raw_peer flooder;
  BOOST_TEST_REQUIRE(flooder.upgrade(d.port()));
  // The 101 reaches the peer before the daemon's coroutine resumes and counts the connection.
  BOOST_TEST_REQUIRE(wait_until([&] { return d.server().stats().connections == 1u; }, 5s));
  // Non-blocking writes: stop when the kernel buffers are full (the daemon stopped reading).
  flooder.sock.non_blocking(true);
  std::string frame;
  for (int i = 0; i < 64; ++i) frame += client_text_frame(R"({"type":"get_sessions","requestId":"flood"})");
  std::size_t sent_frames = 0;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  std::string pending;
  while (std::chrono::steady_clock::now() < deadline && sent_frames < 2'000'000) {
    if (pending.empty()) pending = frame;
    boost::system::error_code ec;
    const std::size_t w = flooder.sock.write_some(boost::asio::buffer(pending), ec);
    if (ec == boost::asio::error::would_block) break;
    BOOST_TEST_REQUIRE(!ec, "write: " << ec.message());
    pending.erase(0, w);
    if (pending.empty()) ++sent_frames;
  }
  BOOST_TEST((std::chrono::steady_clock::now() < deadline), "the daemon kept reading a peer that never reads");
  // The daemon did read and answer (the kernel buffers alone did not stop the flood), then
  // stopped: the count of executed requests settles (bounded wait: 20 ms without change).
  const auto executed = [&] { return d.server().stats().requests_of(message_type::get_sessions); };
  BOOST_TEST_REQUIRE(wait_until([&] { return executed() > 0u; }, 5s), "the daemon read nothing");
  std::uint64_t last = executed();
  auto changed = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(wait_until(
      [&] {
        const auto now = executed();
        if (now != last) {
          last = now;
          changed = std::chrono::steady_clock::now();
        }
        return std::chrono::steady_clock::now() - changed > 20ms;
      },
      5s), "the daemon never stopped executing the flood");
  BOOST_TEST(last <= (sent_frames + 1) * 64 * 64 + 64);
  // Still connected (held back at the soft limit, not dropped at the hard one), and the others
  // are served meanwhile.
  BOOST_TEST(d.server().stats().connections == 1u);
  check_alive(d, nullptr);
}

BOOST_AUTO_TEST_CASE(websocket_pings_are_answered) {
  daemon_fixture d;
  auto c = d.connect();
  BOOST_TEST(!c->ping());
  check_alive(d, c.get());
}

BOOST_AUTO_TEST_CASE(permessage_deflate_offer_is_accepted) {
  // Not negotiated by default...
  {
    daemon_fixture d;
    ws_client c;
    BOOST_TEST_REQUIRE(!c.connect(ws_connect_options::offering_deflate(d.port())));
    BOOST_TEST(!c.deflate_negotiated());
    auto a = c.request(simple_request("get_health"), "z");
    BOOST_TEST_REQUIRE(a.has_value());
  }
  // ...and negotiated when enabled: Beast's client reads what the daemon compresses (every
  // message here: answers, errors and heartbeat pushes) and sends compressed itself.
  auto o = test_daemon_options();
  o.permessage_deflate = true;
  o.deflate_threshold = 0;
  o.heartbeat_interval = std::chrono::milliseconds(20);
  daemon_fixture d(o);
  ws_client c;
  BOOST_TEST_REQUIRE(!c.connect(ws_connect_options::offering_deflate(d.port())));
  BOOST_TEST(c.deflate_negotiated());
  for (int i = 0; i < 20; ++i) {
    auto a = c.request(simple_request("get_sessions"), "z" + std::to_string(i));
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(str(*a, "type") == "sessions_response");
  }
  (void)error_answer(c, "{not json");
  BOOST_TEST(c.next_matching([](const json::object& m) { return str(m, "type") == "heartbeat"; }, 5s).has_value());
  BOOST_TEST(d.server().stats().frames_compressed >= 22u);
  check_alive(d, &c);
}
