// permessage-deflate (RFC 7692): the agreement's parameters read from a handshake response, the
// message deflater checked against Beast's inflater (context takeover, a fresh context per
// message, a 512-byte window), and the extension end to end: daemon_node and the daemon
// compress what they send when both agree, Beast (as daemon, as client) reads it, a peer's
// narrower window is honoured, an 8-bit window is not compressed to,
// and a restarted daemon gets the resent requests compressed on the new connection.
#define BOOST_TEST_MODULE compression
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/fault_proxy.hpp"
#include "support/node_env.hpp"
#include "support/wait.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/transport/detail/ws_deflate.hpp>
#include <neolith/transport/detail/ws_frame.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/zlib/error.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>

#include <random>

using namespace neolith;
using namespace neolith::test;
using neolith::detail::deflate_agreement;
using neolith::detail::message_deflater;
using neolith::detail::parse_deflate_agreement;
namespace asio = boost::asio;
namespace zlib = boost::beast::zlib;
namespace websocket = boost::beast::websocket;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

/// The receiver's side of RFC 7692 section 7.2.2: append 00 00 ff ff, inflate. nullopt when
/// the data does not inflate (e.g. a distance beyond the inflater's window).
std::optional<std::string> inflate_message(zlib::inflate_stream& zi, std::string_view payload) {
  std::string in(payload);
  in.append("\x00\x00\xff\xff", 4);
  std::string out(in.size() * 8 + 1024, '\0');
  zlib::z_params zs;
  zs.next_in = in.data();
  zs.avail_in = in.size();
  std::size_t produced = 0;
  for (int round = 0; round < 64; ++round) {
    zs.next_out = out.data() + produced;
    zs.avail_out = out.size() - produced;
    boost::system::error_code ec;
    zi.write(zs, zlib::Flush::sync, ec);
    produced = out.size() - zs.avail_out;
    if (ec == zlib::error::need_buffers || (!ec && zs.avail_in == 0 && zs.avail_out != 0)) {
      out.resize(produced);
      return out;
    }
    if (ec) return std::nullopt;
    out.resize(out.size() * 2);
  }
  return std::nullopt;
}

/// JSON-like messages that repeat one another (what context takeover is for).
std::string sample_message(int i) {
  return R"({"type":"session_state","requestId":"req-)" + std::to_string(i) +
         R"(","session":{"id":"s-)" + std::to_string(i * 7) +
         R"(","status":"running","task":{"id":"t","description":"summarise the logs of the build farm"}}})";
}

/// Text whose repeats are `distance` bytes apart: a deflater with a smaller window cannot
/// reach them, one with a larger window does (and then a smaller inflater cannot follow).
std::string far_repeats(std::size_t distance, std::size_t total, unsigned seed) {
  std::mt19937 rng(seed);
  std::string block(distance, ' ');
  for (auto& c : block) c = static_cast<char>('a' + rng() % 26);
  std::string out;
  while (out.size() < total) out += block;
  out.resize(total);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(agreement)

BOOST_AUTO_TEST_CASE(defaults_and_parameters) {
  auto a = parse_deflate_agreement("permessage-deflate");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(!a->server_no_context_takeover);
  BOOST_TEST(!a->client_no_context_takeover);
  BOOST_TEST(a->server_max_window_bits == 15);
  BOOST_TEST(a->client_max_window_bits == 15);

  a = parse_deflate_agreement(
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
      "client_max_window_bits=9");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(a->server_no_context_takeover);
  BOOST_TEST(a->client_no_context_takeover);
  BOOST_TEST(a->server_max_window_bits == 10);
  BOOST_TEST(a->client_max_window_bits == 9);

  // Quoted values, any case, tabs and spaces, another extension first (with a quoted comma).
  a = parse_deflate_agreement("x-custom; note=\"a, b\" ,\tPerMessage-Deflate ;Client_Max_Window_Bits=\"12\"");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(a->client_max_window_bits == 12);
  BOOST_TEST(a->server_max_window_bits == 15);
  a = parse_deflate_agreement(", , permessage-deflate; server_max_window_bits=8");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(a->server_max_window_bits == 8);
}

BOOST_AUTO_TEST_CASE(malformed_or_absent_is_no_agreement) {
  for (const char* v : {"", "   ", "x-webkit-deflate-frame", "permessage-deflate2", "x; permessage-deflate",
                        "permessage-deflate; unknown_parameter", "permessage-deflate; server_no_context_takeover=1",
                        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                        "permessage-deflate; client_max_window_bits",  // a response gives the size
                        "permessage-deflate; client_max_window_bits=7", "permessage-deflate; client_max_window_bits=16",
                        "permessage-deflate; client_max_window_bits=08", "permessage-deflate; client_max_window_bits=1x",
                        "permessage-deflate; client_max_window_bits=\"9", "permessage-deflate; =9",
                        "permessage-deflate;", "permessage-deflate server_no_context_takeover",
                        "permessage-deflate; server_max_window_bits=-9"}) {
    BOOST_TEST_CONTEXT("header: '" << v << "'") { BOOST_TEST(!parse_deflate_agreement(v).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(random_headers_are_read_or_refused_never_misread) {
  // Bounded: 20,000 strings built from the grammar's own characters and words.
  std::mt19937 rng(11);
  const std::vector<std::string> parts{"permessage-deflate", "server_no_context_takeover", "client_no_context_takeover",
                                       "server_max_window_bits", "client_max_window_bits", ";", ",", "=", "\"", "\\",
                                       " ", "\t", "8", "9", "12", "15", "16", "x", ""};
  int read = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string h;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) h += parts[rng() % parts.size()];
    if (const auto a = parse_deflate_agreement(h)) {
      ++read;
      BOOST_TEST_REQUIRE((a->server_max_window_bits >= 8 && a->server_max_window_bits <= 15), h);
      BOOST_TEST_REQUIRE((a->client_max_window_bits >= 8 && a->client_max_window_bits <= 15), h);
    }
  }
  BOOST_TEST(read > 0);
}

BOOST_AUTO_TEST_CASE(the_side_and_an_unusable_window) {
  deflate_agreement a;
  a.server_max_window_bits = 10;
  a.client_max_window_bits = 8;
  a.client_no_context_takeover = true;
  BOOST_TEST(message_deflater::window_bits_for(a, true).value() == 10);
  BOOST_TEST(!message_deflater::window_bits_for(a, false).has_value());  // zlib cannot keep to 8
  BOOST_TEST(detail::make_deflater(a, false, 6) == nullptr);
  BOOST_TEST(detail::make_deflater(a, true, 6) != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(deflater)

BOOST_AUTO_TEST_CASE(context_takeover_round_trips_through_beasts_inflater) {
  message_deflater d(15, false, 6, detail::deflate_mem_level);
  zlib::inflate_stream zi;
  zi.reset(15);
  std::size_t first = 0, last = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string m = sample_message(i);
    const std::string packed(d.compress(m));
    const auto back = inflate_message(zi, packed);
    BOOST_TEST_REQUIRE(back.has_value(), "message " << i << " does not inflate");
    BOOST_TEST_REQUIRE(*back == m);
    if (i == 0) first = packed.size();
    last = packed.size();
  }
  // The later messages refer back to the earlier ones.
  BOOST_TEST(last * 2 < first, "first " << first << " bytes, last " << last);
}

BOOST_AUTO_TEST_CASE(no_context_takeover_makes_each_message_stand_alone) {
  message_deflater d(15, true, 6, detail::deflate_mem_level);
  std::size_t first = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string m = sample_message(i % 2);
    const std::string packed(d.compress(m));
    zlib::inflate_stream fresh;  // a new context for every message
    fresh.reset(15);
    const auto back = inflate_message(fresh, packed);
    BOOST_TEST_REQUIRE(back.has_value(), "message " << i << " needs an earlier one");
    BOOST_TEST_REQUIRE(*back == m);
    if (i == 0) first = packed.size();
    if (i >= 2) BOOST_TEST(packed.size() + 8 >= first);  // no gain from the repeats
  }
}

BOOST_AUTO_TEST_CASE(a_narrow_window_is_kept_to) {
  // Repeats 1,000 bytes apart: a 512-byte window must not reach them, so a 512-byte inflater
  // follows every message (a 32 KiB deflater would refer back and break it).
  message_deflater d(9, false, 9, detail::deflate_mem_level);
  zlib::inflate_stream zi;
  zi.reset(9);
  for (int i = 0; i < 20; ++i) {
    const std::string m = far_repeats(1000, 6000, static_cast<unsigned>(i % 3));
    const auto back = inflate_message(zi, d.compress(m));
    BOOST_TEST_REQUIRE(back.has_value(), "message " << i << " reaches beyond 512 bytes");
    BOOST_TEST_REQUIRE(*back == m);
  }
  // The same messages through a 32 KiB deflater do reach back (the second message refers to
  // the first, more than 512 bytes behind): the check above can fail.
  message_deflater wide(15, false, 9, detail::deflate_mem_level);
  zlib::inflate_stream narrow;
  narrow.reset(9);
  const std::string m = far_repeats(1000, 6000, 0);
  BOOST_TEST_REQUIRE(inflate_message(narrow, wide.compress(m)).value() == m);
  const auto back = inflate_message(narrow, wide.compress(m));
  BOOST_TEST((!back || *back != m));
}

BOOST_AUTO_TEST_CASE(incompressible_and_large_messages) {
  message_deflater d(15, false, 6, detail::deflate_mem_level);
  zlib::inflate_stream zi;
  zi.reset(15);
  std::mt19937 rng(7);
  for (std::size_t n : {1u, 100u, 70'000u, 1'048'576u}) {
    std::string m(n, '\0');
    for (auto& c : m) c = static_cast<char>(rng());  // random bytes: larger once compressed
    const std::string packed(d.compress(m));
    const auto back = inflate_message(zi, packed);
    BOOST_TEST_REQUIRE(back.has_value(), n << " bytes");
    BOOST_TEST_REQUIRE(back->size() == n);
    BOOST_TEST((*back == m));
  }
  const std::string zeros(1'048'576, '0');
  const std::string packed(d.compress(zeros));
  BOOST_TEST(packed.size() < 4096u);
  BOOST_TEST(inflate_message(zi, packed).value() == zeros);
}

BOOST_AUTO_TEST_CASE(a_compressed_frame_sets_rsv1_only) {
  std::vector<char> out;
  detail::append_ws_frame(out, detail::ws_opcode::text, "abc", std::nullopt, true);
  BOOST_TEST(static_cast<unsigned char>(out[0]) == 0xC1u);
  out.clear();
  detail::append_ws_frame(out, detail::ws_opcode::text, "abc", 0x01020304u, false);
  BOOST_TEST(static_cast<unsigned char>(out[0]) == 0x81u);
}

BOOST_AUTO_TEST_SUITE_END()

// ----- End to end ----------------------------------------------------------------------------

namespace {

daemon_options deflating_daemon(std::size_t threshold = 1024) {
  auto o = test_daemon_options();
  o.permessage_deflate = true;
  o.deflate_threshold = threshold;
  return o;
}

node_options deflating_node(std::size_t threshold = 1024) {
  auto o = fast_node_options();
  o.permessage_deflate = true;
  o.deflate_threshold = threshold;
  return o;
}

session_spawn_request big_spawn(std::string id) {
  auto r = make_spawn(std::move(id));
  r.task.description.clear();
  for (int i = 0; i < 400; ++i) r.task.description += "step " + std::to_string(i % 10) + ": read, build, test; ";
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(end_to_end)

BOOST_AUTO_TEST_CASE(both_sides_compress_large_messages) {
  restartable_daemon daemon(deflating_daemon());
  asio::io_context ioc;
  fault_proxy proxy(ioc.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon.port()));
  daemon_node node(ioc.get_executor(), "n", node_endpoint::ws("127.0.0.1", proxy.endpoint().port()),
                   test_capabilities(), deflating_node());
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  const auto req = big_spawn("big");
  const std::size_t description = req.task.description.size();
  auto s = run(ioc, node.spawn_session(req));
  BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error().what()));
  BOOST_TEST(s.value().task.description == req.task.description);
  auto g = run(ioc, node.get_session(s.value().id));
  BOOST_TEST_REQUIRE(g.has_value());
  BOOST_TEST_REQUIRE(g.value().has_value());
  BOOST_TEST(g.value()->task.description == req.task.description);
  // Small messages (heartbeats, get_session) went as they are; the large ones compressed.
  const auto ns = node.statistics();
  BOOST_TEST(ns.frames_compressed == 1u);
  BOOST_TEST(ns.deflate_output_bytes * 8 < ns.deflate_input_bytes);
  const auto ds = daemon.server()->stats();
  BOOST_TEST(ds.frames_compressed == 2u);  // session_spawned and session_state
  BOOST_TEST(ds.deflate_output_bytes * 8 < ds.deflate_input_bytes);
  // And so on the wire, both ways (the description crossed once up, twice down).
  BOOST_TEST(proxy.bytes_upstream() < description / 2);
  BOOST_TEST(proxy.bytes_downstream() < description);
  BOOST_TEST(ns.invalid_frames == 0u);
  BOOST_TEST(ds.decode_errors == 0u);
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_CASE(everything_compressed_with_context_takeover_under_load) {
  // Threshold 0: every frame of both sides is compressed (requests, heartbeats, answers, the
  // daemon's heartbeat pushes), each referring back to the earlier ones.
  auto d = deflating_daemon(0);
  d.heartbeat_interval = 10ms;
  restartable_daemon daemon(d);
  asio::io_context ioc;
  daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), deflating_node(0));
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  constexpr int n = 2000;
  int answered = 0, failed = 0;
  for (int i = 0; i < n; ++i) {
    node.async_request(msg::get_health{}, 5000ms, [&](result<message> r) {
      ++(r && std::holds_alternative<msg::health_response>(r.value()) ? answered : failed);
    });
  }
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return answered + failed == n; }, 20s));
  BOOST_TEST(answered == n);
  BOOST_TEST(node.statistics().frames_compressed >= static_cast<std::uint64_t>(n));
  BOOST_TEST(daemon.server()->stats().frames_compressed >= static_cast<std::uint64_t>(n));
  BOOST_TEST(daemon.server()->stats().heartbeats_sent > 0u);
  BOOST_TEST(node.statistics().invalid_frames == 0u);
  BOOST_TEST(node.statistics().connection_losses == 0u);
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_CASE(not_agreed_means_uncompressed) {
  // The node offers, the daemon declines.
  {
    restartable_daemon daemon;
    asio::io_context ioc;
    daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), deflating_node(0));
    BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
    BOOST_TEST(run(ioc, node.spawn_session(big_spawn("a"))).has_value());
    BOOST_TEST(node.statistics().frames_compressed == 0u);
    BOOST_TEST(daemon.server()->stats().frames_compressed == 0u);
    (void)run(ioc, node.disconnect());
  }
  // The daemon would, the node does not offer.
  {
    restartable_daemon daemon(deflating_daemon(0));
    asio::io_context ioc;
    daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), fast_node_options());
    BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
    BOOST_TEST(run(ioc, node.spawn_session(big_spawn("b"))).has_value());
    BOOST_TEST(node.statistics().frames_compressed == 0u);
    BOOST_TEST(daemon.server()->stats().frames_compressed == 0u);
    (void)run(ioc, node.disconnect());
  }
}

namespace {

/// A Beast daemon with the given permessage-deflate settings that answers each get_session
/// with `answer(request)` (Beast compresses its answers, and inflates the node's requests).
scripted_peer session_peer(asio::io_context& ioc, websocket::permessage_deflate pmd,
                           std::function<std::string(const msg::get_session&)> answer,
                           std::function<void(scripted_peer::ws_stream&)> more = {}) {
  return scripted_peer(
      ioc.get_executor(),
      [answer](std::shared_ptr<scripted_peer::ws_stream> ws) -> awaitable<void> {
        for (;;) {
          auto text = co_await read_text(*ws);
          if (!text) co_return;
          auto m = decode(*text);
          if (!m) co_return;  // a request that did not inflate to JSON: stop answering
          if (auto* g = std::get_if<msg::get_session>(&m.value()))
            if (!co_await write_text(*ws, answer(*g))) co_return;
        }
      },
      [pmd, more](scripted_peer::ws_stream& ws) {
        ws.set_option(pmd);
        if (more) more(ws);
      });
}

/// session_peer answering with the id it was asked for, counting the answers in `served`.
scripted_peer echo_peer(asio::io_context& ioc, websocket::permessage_deflate pmd, std::shared_ptr<int> served,
                        std::function<void(scripted_peer::ws_stream&)> more = {}) {
  auto answer = [served](const msg::get_session& g) {
    msg::session_state a;
    a.request_id = g.request_id;
    a.session_id = g.session_id;
    ++*served;
    return encode(message(a));
  };
  return session_peer(ioc, pmd, answer, std::move(more));
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_peers_narrow_window_is_honoured) {
  // Beast as the daemon asks the client for a 512-byte window: its inflater fails on a
  // reference to an earlier message further back. The requests repeat the previous ones, so a
  // deflater with a wider window would refer back. (A fresh context per message is checked by
  // the deflater's own test, with a new inflater per message: Beast's inflater, asked to forget
  // between messages, keeps its window - clear() does not drop it in Boost 1.81 - so it would
  // not notice a compressor that kept its context.)
  websocket::permessage_deflate pmd;
  pmd.server_enable = true;
  pmd.client_max_window_bits = 9;
  asio::io_context ioc;
  auto served = std::make_shared<int>(0);
  auto peer = echo_peer(ioc, pmd, served);
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), deflating_node(0));
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  for (int i = 0; i < 20; ++i) {
    const std::string id = far_repeats(1000, 4000, static_cast<unsigned>(i % 2));
    auto r = run(ioc, node.get_session(id));
    BOOST_TEST_REQUIRE(r.has_value(), "request " << i << ": " << (r ? "" : r.error().what()));
  }
  BOOST_TEST(*served == 20);
  BOOST_TEST(node.statistics().frames_compressed >= 20u);
  BOOST_TEST(node.statistics().connection_losses == 0u);
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_CASE(the_daemon_keeps_to_the_window_a_client_asks_for) {
  // Beast as the client asks the daemon for a 512-byte window; the answers repeat the previous
  // ones (the same session, its description repeating itself 1,000 bytes apart), so a daemon
  // compressing with a wider window would refer back beyond what Beast's inflater keeps.
  daemon_fixture d(deflating_daemon(0));
  ws_client c;
  BOOST_TEST_REQUIRE(!c.connect(ws_connect_options::offering_deflate(d.port(), 9)));
  BOOST_TEST_REQUIRE(c.deflate_negotiated());
  const std::string description = far_repeats(1000, 4000, 3);
  auto s = c.request(spawn_request("claude-code", make_task("t", description)), "s");
  BOOST_TEST_REQUIRE(s.has_value());
  const std::string id = str(s->at("session").as_object(), "id");
  for (int i = 0; i < 10; ++i) {
    auto a = c.request(session_request("get_session", id), "g" + std::to_string(i));
    BOOST_TEST_REQUIRE(a.has_value(), "answer " << i << " did not arrive (or did not inflate)");
    BOOST_TEST(str(a->at("session").as_object(), "id") == id);
  }
  BOOST_TEST(d.server().stats().frames_compressed >= 11u);
}

BOOST_AUTO_TEST_CASE(a_message_inflating_past_the_limit_closes_with_1009) {
  // 4 MiB of one repeated byte compresses to a few KiB: the limit is on the inflated text.
  auto o = deflating_daemon();
  o.max_message_bytes = 64 * 1024;
  daemon_fixture d(o);
  auto bystander = d.connect();
  ws_client c;
  BOOST_TEST_REQUIRE(!c.connect(ws_connect_options::offering_deflate(d.port())));
  BOOST_TEST_REQUIRE(c.deflate_negotiated());
  std::string bomb = R"({"type":"get_health","requestId":"bomb","pad":")";
  bomb.append(4u << 20, 'x');
  bomb += "\"}";
  // Beast writes it as several compressed frames: the daemon may close before the last one, so
  // the write may fail; the close it sends says why.
  const auto sent = c.send_text(bomb);
  BOOST_TEST_MESSAGE("write: " << sent.message());
  BOOST_TEST(c.wait_closed());
  BOOST_TEST(c.close_reason().code == static_cast<std::uint16_t>(websocket::close_code::too_big));
  // The daemon and its other clients go on.
  auto a = bystander->request(simple_request("get_health"), "after");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(str(*a, "type") == "health_response");
}

BOOST_AUTO_TEST_CASE(the_node_refuses_a_message_inflating_past_its_limit) {
  // A Beast daemon answers with 4 MiB that deflate to a few KiB: the node closes (1009), counts
  // the loss, reconnects, and the request fails rather than taking the text in.
  websocket::permessage_deflate pmd;
  pmd.server_enable = true;
  asio::io_context ioc;
  auto peer = session_peer(ioc, pmd, [](const msg::get_session& g) {
    return R"({"type":"session_state","requestId":")" + g.request_id.value_or("") + R"(","sessionId":")" +
           std::string(4u << 20, 'x') + R"(","session":null})";
  });
  auto o = deflating_node();
  o.max_message_bytes = 64 * 1024;
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), o);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  auto r = run(ioc, node.get_session("s", 1500ms));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(node.statistics().connection_losses >= 1u);
  BOOST_TEST(run_until(ioc, [&] { return peer.connections() >= 2 && node.state() == connection_state::connected; }, 5s));
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_CASE(an_eight_bit_window_is_not_compressed_to) {
  // A daemon that states an 8-bit window for the client (Beast cannot be made to: its answer
  // is put in by hand; Beast itself then reads without the extension, so a compressed frame
  // would break the connection). The node sends uncompressed, which is always allowed.
  asio::io_context ioc;
  auto served = std::make_shared<int>(0);
  auto peer = echo_peer(ioc, websocket::permessage_deflate{}, served, [](scripted_peer::ws_stream& ws) {
    ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(boost::beast::http::field::sec_websocket_extensions, "permessage-deflate; client_max_window_bits=8");
    }));
  });
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), deflating_node(0));
  auto c = run(ioc, node.connect());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().what()));
  for (int i = 0; i < 3; ++i) {
    auto r = run(ioc, node.get_session(std::string(3000, 'x')));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().what()));
  }
  BOOST_TEST(*served == 3);
  BOOST_TEST(node.statistics().frames_compressed == 0u);
  BOOST_TEST(node.statistics().connection_losses == 0u);
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_CASE(daemon_restarted_resent_requests_are_compressed_on_the_new_connection) {
  auto d = deflating_daemon(0);
  d.response_delay = 1000ms;  // the kill below comes well before any answer leaves
  restartable_daemon daemon(d);
  asio::io_context ioc;
  daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), deflating_node(0));
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  constexpr int n = 5;
  std::vector<session_spawn_request> requests;
  for (int i = 0; i < n; ++i) requests.push_back(big_spawn("r" + std::to_string(i)));
  const auto before = node.statistics().frames_compressed;
  const auto results = spawn_through_a_crash(daemon, ioc, node, std::move(requests));
  for (const auto& r : results) BOOST_TEST(r.has_value(), (r ? "" : r.error().what()));
  BOOST_TEST(node.statistics().resent >= static_cast<std::uint64_t>(n));
  // Each written twice, compressed both times: on the first connection and on the new one.
  BOOST_TEST(node.statistics().frames_compressed >= before + 2 * n);
  BOOST_TEST(daemon.server()->live_sessions() == static_cast<std::size_t>(n));
  BOOST_TEST(daemon.server()->stats().frames_compressed >= static_cast<std::uint64_t>(n));
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_SUITE_END()
