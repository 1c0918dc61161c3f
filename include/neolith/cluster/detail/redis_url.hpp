// Where a Redis server listens: `redis://HOST:PORT[/DB]` or `unix://PATH`.
#ifndef NEOLITH_CLUSTER_DETAIL_REDIS_URL_HPP
#define NEOLITH_CLUSTER_DETAIL_REDIS_URL_HPP

#include <neolith/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace neolith::cluster::detail {

struct redis_address {
  bool unix_socket = false;
  std::string host;          ///< TCP: host name or address
  std::uint16_t port = 6379; ///< TCP: port (6379 when the URL has none)
  std::string path;          ///< unix: the socket's path
  int db = 0;                ///< the database SELECTed after connecting (redis:// only)

  /// The address as a URL again (for messages).
  std::string url() const;
};

/// Parses `redis://HOST[:PORT][/DB]` or `unix://PATH` (an absolute path); anything else
/// (other scheme, user info, query, bad port or database) is `invalid_endpoint`.
result<redis_address> parse_redis_url(std::string_view url);

}  // namespace neolith::cluster::detail

#endif  // NEOLITH_CLUSTER_DETAIL_REDIS_URL_HPP
