// The digest a migration compares (cluster/session_digest.hpp): canonical JSON, SHA-256, and
// which fields of a session count.
#define BOOST_TEST_MODULE cluster_digest

#include <boost/test/unit_test.hpp>

#include <neolith/cluster/session_digest.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/json/parse.hpp>

#include "codec_samples.hpp"

#include <string>

using namespace neolith;
using neolith::samples::make_session;
using neolith::cluster::canonical_json;
using neolith::cluster::session_digest;

BOOST_AUTO_TEST_CASE(sha256_matches_the_fips_180_vectors) {
  BOOST_TEST(cluster::to_hex(cluster::sha256("")) ==
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(cluster::to_hex(cluster::sha256("abc")) ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(cluster::to_hex(cluster::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  BOOST_TEST(cluster::to_hex(cluster::sha256(million)) ==
             "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

BOOST_AUTO_TEST_CASE(canonical_json_sorts_keys_at_every_depth_and_drops_white_space) {
  const auto a = boost::json::parse(R"({ "b": 1, "a": {"z": [3, {"y": true, "x": null}], "c": "s\"q"} })");
  const auto b = boost::json::parse(R"({"a":{"c":"s\"q","z":[3,{"x":null,"y":true}]},"b":1})");
  BOOST_TEST(canonical_json(a) == R"({"a":{"c":"s\"q","z":[3,{"x":null,"y":true}]},"b":1})");
  BOOST_TEST(canonical_json(a) == canonical_json(b));
  // Arrays keep their order: it is part of the value.
  BOOST_TEST(canonical_json(boost::json::parse("[1,2]")) != canonical_json(boost::json::parse("[2,1]")));
  // Numbers read back the same: 0.1 stays 0.1, integers stay integers.
  BOOST_TEST(canonical_json(boost::json::parse(R"({"n":0.1,"i":42,"u":18446744073709551615})")) ==
             R"({"i":42,"n":1E-1,"u":18446744073709551615})");
}

BOOST_AUTO_TEST_CASE(session_digest_ignores_what_the_running_copy_owns) {
  const session s = make_session(true);
  const std::string d = session_digest(s);
  BOOST_TEST(d.size() == 64u);
  session running = s;
  running.status = session_status::running;
  running.metrics.tokens_used += 1000;
  running.ended_at = running.started_at;
  BOOST_TEST(session_digest(running) == d);
  // The same session, its memory's keys received in another order: the same digest.
  session reordered = s;
  boost::json::object scratch;
  for (auto it = s.memory.scratchpad.end(); it != s.memory.scratchpad.begin();) {
    --it;
    scratch[it->key()] = it->value();
  }
  reordered.memory.scratchpad = std::move(scratch);
  BOOST_TEST(session_digest(reordered) == d);
}

BOOST_AUTO_TEST_CASE(session_digest_sees_every_change_of_what_moves) {
  const session s = make_session(true);
  const std::string d = session_digest(s);
  session other = s;
  other.memory.scratchpad["note"] = "changed";
  BOOST_TEST(session_digest(other) != d);
  other = s;
  other.memory.episodic.pop_back();
  BOOST_TEST(session_digest(other) != d);
  other = s;
  other.task.description += ".";
  BOOST_TEST(session_digest(other) != d);
  other = s;
  other.id += "x";
  BOOST_TEST(session_digest(other) != d);
}
