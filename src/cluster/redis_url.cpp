#include <neolith/cluster/detail/redis_url.hpp>

#include <boost/url/parse.hpp>

#include <charconv>

namespace neolith::cluster::detail {

namespace {

error_info bad(std::string_view url, std::string_view why) {
  return {error::invalid_endpoint, "the registry URL '" + std::string(url) + "' " + std::string(why) +
                                       " (expected redis://HOST:PORT[/DB] or unix://PATH)"};
}

}  // namespace

std::string redis_address::url() const {
  if (unix_socket) return "unix://" + path;
  std::string out = "redis://" + host + ":" + std::to_string(port);
  if (db != 0) out += "/" + std::to_string(db);
  return out;
}

result<redis_address> parse_redis_url(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return bad(text, "is not a URL");
  const auto& u = *parsed;
  if (u.has_userinfo() || u.has_query() || u.has_fragment()) return bad(text, "has parts this client does not use");
  redis_address a;
  if (u.scheme() == "unix") {
    a.unix_socket = true;
    a.path = std::string(u.encoded_host()) + std::string(u.path());
    if (!u.encoded_host().empty() || a.path.empty() || a.path.front() != '/')
      return bad(text, "needs an absolute socket path (unix:///run/redis.sock)");
    return a;
  }
  if (u.scheme() != "redis") return bad(text, "has an unknown scheme");
  a.host = std::string(u.host());
  if (a.host.empty()) return bad(text, "has no host");
  if (u.has_port()) {
    const auto port = u.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      return bad(text, "has an invalid port");
    a.port = static_cast<std::uint16_t>(value);
  }
  const std::string decoded_path = u.path();  // a decoded copy: keep it while the view is used
  std::string_view path = decoded_path;
  if (!path.empty() && path != "/") {
    path.remove_prefix(1);
    int db = -1;
    const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || end != path.data() + path.size() || db < 0)
      return bad(text, "has an invalid database number");
    a.db = db;
  }
  return a;
}

}  // namespace neolith::cluster::detail
