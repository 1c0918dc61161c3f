#include <neolith/daemon/detail/daemon_auth.hpp>
#include <neolith/daemon/detail/daemon_http.hpp>
#include <neolith/daemon/detail/daemon_server_impl.hpp>
#include <neolith/daemon/metrics.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <string_view>

namespace neolith::detail {

namespace http = boost::beast::http;

namespace {

/// The path of a request target, without its query.
std::string_view path_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

probe_answer text(http::status st, std::string body) {
  return probe_answer{st, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

std::optional<probe_answer> answer_probe(const daemon_server::impl& s, const http::request<http::string_body>& req) {
  if (req.method() != http::verb::get) return std::nullopt;
  const std::string_view path = path_of(req.target());
  if (path != "/metrics" && path != "/healthz" && path != "/readyz") return std::nullopt;
  const daemon_options& o = s.opts;
  if (o.token && !o.metrics_public && !bearer_token_matches(req[http::field::authorization], *o.token))
    return std::nullopt;
  daemon_core& core = *s.core;
  const bool stopping = s.stopping.load();
  if (path == "/healthz") return stopping ? text(http::status::service_unavailable, "stopping\n") : text(http::status::ok, "ok\n");
  if (path == "/readyz") {
    if (stopping) return text(http::status::service_unavailable, "stopping\n");
    if (core.registry().live_count() >= o.max_sessions) return text(http::status::service_unavailable, "at capacity\n");
    return text(http::status::ok, "ready\n");
  }
  daemon_stats st;
  core.fill_stats(st);
  const std::string id = core.node_id();
  probe_answer a{http::status::ok, "text/plain; version=0.0.4; charset=utf-8", {}};
  append_prometheus(a.body, id, st, core.health());
  append_sessions_by_status(a.body, id, core.registry().list());
  return a;
}

}  // namespace neolith::detail
