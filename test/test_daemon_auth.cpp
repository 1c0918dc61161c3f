// Bearer-token authentication of the daemon: HTTP 401 before the upgrade without or with a
// wrong token (also for plain HTTP requests), success with the right one whatever the case of
// the scheme; the token-file and header parsing rules.
#define BOOST_TEST_MODULE daemon_auth
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"

#include <neolith/daemon/detail/daemon_auth.hpp>

#include <boost/beast/websocket/error.hpp>

using namespace neolith;
using namespace neolith::test;

namespace {

constexpr const char* token = "s3cret-T0ken/with+chars=";

daemon_options auth_options() {
  auto o = test_daemon_options();
  o.token = token;
  return o;
}

int try_connect(std::uint16_t port, std::optional<std::string> authorization) {
  ws_client c;
  ws_connect_options o;
  o.port = port;
  o.authorization = std::move(authorization);
  auto ec = c.connect(o);
  if (!ec) {
    auto a = c.request(simple_request("get_health"), "auth");
    return a && str(*a, "type") == "health_response" ? 101 : -1;
  }
  return c.http_status();
}

}  // namespace

BOOST_AUTO_TEST_CASE(missing_or_wrong_token_gets_401) {
  daemon_fixture d(auth_options());
  BOOST_TEST(try_connect(d.port(), std::nullopt) == 401);
  BOOST_TEST(try_connect(d.port(), std::string("Bearer wrong")) == 401);
  BOOST_TEST(try_connect(d.port(), std::string("Bearer ") + token + "x") == 401);
  BOOST_TEST(try_connect(d.port(), std::string("Bearer ") + std::string(token).substr(1)) == 401);
  BOOST_TEST(try_connect(d.port(), std::string("Basic ") + token) == 401);
  BOOST_TEST(try_connect(d.port(), std::string(token)) == 401);
  BOOST_TEST(try_connect(d.port(), std::string("Bearer")) == 401);
  BOOST_TEST(try_connect(d.port(), std::string("Bearer ")) == 401);
  // Plain HTTP without the token: 401 rather than 426.
  auto r = http_get(d.port());
  BOOST_TEST(r.status == 401);
  BOOST_TEST(r.headers["WWW-Authenticate"] == "Bearer");
  BOOST_TEST(r.body.find(token) == std::string::npos);
  BOOST_TEST(d.server().stats().connections_accepted == 0u);
}

BOOST_AUTO_TEST_CASE(right_token_in_any_scheme_case_is_accepted) {
  daemon_fixture d(auth_options());
  BOOST_TEST(try_connect(d.port(), std::string("Bearer ") + token) == 101);
  BOOST_TEST(try_connect(d.port(), std::string("bearer ") + token) == 101);
  BOOST_TEST(try_connect(d.port(), std::string("BEARER ") + token) == 101);
  BOOST_TEST(try_connect(d.port(), std::string("BeArEr  ") + token) == 101);
  // Plain HTTP with the right token is still not an upgrade: 426.
  auto r = http_get(d.port(), {{"Authorization", std::string("Bearer ") + token}});
  BOOST_TEST(r.status == 426);
  BOOST_TEST(d.server().stats().connections_accepted == 4u);
}

BOOST_AUTO_TEST_CASE(no_token_configured_accepts_anyone) {
  daemon_fixture d;
  BOOST_TEST(try_connect(d.port(), std::nullopt) == 101);
  BOOST_TEST(try_connect(d.port(), std::string("Bearer anything")) == 101);
}

BOOST_AUTO_TEST_CASE(header_and_file_parsing) {
  using detail::bearer_token_matches;
  using detail::token_from_file_content;
  BOOST_TEST(bearer_token_matches("Bearer abc", "abc"));
  BOOST_TEST(bearer_token_matches("bearer abc", "abc"));
  BOOST_TEST(bearer_token_matches("  Bearer\tabc  ", "abc"));
  BOOST_TEST(!bearer_token_matches("Bearer abc", "abcd"));
  BOOST_TEST(!bearer_token_matches("Bearer abcd", "abc"));
  BOOST_TEST(!bearer_token_matches("Bearerabc", "abc"));
  BOOST_TEST(!bearer_token_matches("Bearer ", ""));
  BOOST_TEST(!bearer_token_matches("", "abc"));
  BOOST_TEST(!bearer_token_matches("Token abc", "abc"));
  BOOST_TEST(token_from_file_content("abc\n") == "abc");
  BOOST_TEST(token_from_file_content("abc\r\n") == "abc");
  BOOST_TEST(token_from_file_content("abc") == "abc");
  BOOST_TEST(token_from_file_content("a b\n\n") == "a b");
  BOOST_TEST(token_from_file_content("\n") == "");
}
