// Where a daemon listens: a ws:// or wss:// URL, parsed once.
#ifndef NEOLITH_CLIENT_NODE_ENDPOINT_HPP
#define NEOLITH_CLIENT_NODE_ENDPOINT_HPP

#include <neolith/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace neolith {

struct node_endpoint {
  bool tls = false;          ///< wss://
  std::string host;          ///< a name or an address (IPv6 without brackets)
  std::uint16_t port = 0;    ///< explicit, or 80 / 443 by scheme
  std::string target = "/";  ///< the HTTP request target of the upgrade (path and query)

  /// Parses "ws://HOST[:PORT][/PATH]" or "wss://...". Fails with `error::invalid_endpoint`
  /// and a message saying what is wrong.
  static result<node_endpoint> parse(std::string_view url);

  /// A plain ws:// endpoint.
  static node_endpoint ws(std::string host, std::uint16_t port) { return {false, std::move(host), port, "/"}; }
  /// A wss:// endpoint (TLS).
  static node_endpoint wss(std::string host, std::uint16_t port) { return {true, std::move(host), port, "/"}; }

  /// The URL form ("ws://127.0.0.1:7000/").
  std::string url() const;
  /// "host:port" as the HTTP Host header wants it.
  std::string host_header() const;

  friend bool operator==(const node_endpoint&, const node_endpoint&) = default;
};

}  // namespace neolith

#endif  // NEOLITH_CLIENT_NODE_ENDPOINT_HPP
