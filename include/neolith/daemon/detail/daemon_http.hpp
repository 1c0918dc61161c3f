// The plain HTTP requests the daemon answers on its WebSocket port (with the same TLS):
// `GET /metrics` (Prometheus text format 0.0.4), `GET /healthz` (200 "ok" while serving, 503
// while stopping) and `GET /readyz` (503 at capacity or while stopping). Any other plain
// request keeps its 426 (or 401 without the token).
#ifndef NEOLITH_DAEMON_DETAIL_DAEMON_HTTP_HPP
#define NEOLITH_DAEMON_DETAIL_DAEMON_HTTP_HPP

#include <neolith/daemon/daemon_server.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>

namespace neolith::detail {

struct probe_answer {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string content_type;
  std::string body;
};

/// The answer to `req` when it is a GET of /metrics, /healthz or /readyz that may be
/// answered (the bearer token, when the daemon has one, unless `metrics_public`); nullopt
/// otherwise (the caller refuses it as any other plain request).
std::optional<probe_answer> answer_probe(const daemon_server::impl& s,
                                         const boost::beast::http::request<boost::beast::http::string_body>& req);

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_DAEMON_HTTP_HPP
