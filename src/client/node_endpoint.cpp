#include <neolith/client/node_endpoint.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace neolith {

result<node_endpoint> node_endpoint::parse(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return error_info(error::invalid_endpoint, "not a URL: '" + std::string(url) + "'");
  const boost::urls::url_view& u = *parsed;
  node_endpoint ep;
  const auto scheme = u.scheme();
  if (scheme == "ws") ep.tls = false;
  else if (scheme == "wss") ep.tls = true;
  else return error_info(error::invalid_endpoint, "unsupported scheme '" + std::string(scheme) + "' (ws:// or wss://)");
  if (!u.has_authority() || u.encoded_host().empty())
    return error_info(error::invalid_endpoint, "no host in '" + std::string(url) + "'");
  if (u.has_userinfo()) return error_info(error::invalid_endpoint, "user info is not supported in endpoint URLs");
  if (u.host_type() == boost::urls::host_type::ipv6) ep.host = u.host_ipv6_address().to_string();
  else ep.host = u.host();
  if (u.has_port()) {
    if (u.port().empty()) return error_info(error::invalid_endpoint, "empty port in '" + std::string(url) + "'");
    unsigned long p = 0;
    const auto digits = u.port();
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size() || p == 0 || p > 65535)
      return error_info(error::invalid_endpoint, "port must be 1-65535 in '" + std::string(url) + "'");
    ep.port = static_cast<std::uint16_t>(p);
  } else {
    ep.port = ep.tls ? 443 : 80;
  }
  if (u.has_fragment()) return error_info(error::invalid_endpoint, "a fragment is not allowed in endpoint URLs");
  std::string target(u.encoded_path());
  if (target.empty()) target = "/";
  if (u.has_query()) {
    target += '?';
    target += u.encoded_query();
  }
  ep.target = std::move(target);
  return ep;
}

std::string node_endpoint::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  const bool default_port = port == (tls ? 443 : 80);
  if (!default_port) h += ":" + std::to_string(port);
  return h;
}

std::string node_endpoint::url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "wss://" : "ws://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + target;
}

}  // namespace neolith
