// RESP replies and commands: the reply tree, the incremental reader (hiredis' `redisReader`)
// and the command formatter (hiredis' `redisFormatCommandArgv`). No I/O here.
#ifndef NEOLITH_CLUSTER_DETAIL_REDIS_REPLY_HPP
#define NEOLITH_CLUSTER_DETAIL_REDIS_REPLY_HPP

#include <neolith/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neolith::cluster::detail {

/// One RESP2 reply.
struct redis_reply {
  enum class kind : std::uint8_t { string, status, error, integer, nil, array };
  kind type = kind::nil;
  std::string str;                   ///< string, status, error
  std::int64_t integer = 0;          ///< integer
  std::vector<redis_reply> elements; ///< array

  bool is_error() const noexcept { return type == kind::error; }
  /// A short description for error messages, e.g. `integer 5` or `error "NOSCRIPT ..."`.
  std::string describe() const;
};

/// The RESP reader: feed it bytes as they arrive, take complete replies out. A protocol error
/// (bytes that are not RESP) is `registry_protocol` and is final: the connection must be
/// dropped.
class resp_reader {
 public:
  resp_reader();
  ~resp_reader();
  resp_reader(const resp_reader&) = delete;
  resp_reader& operator=(const resp_reader&) = delete;

  result<void> feed(const char* data, std::size_t size);
  /// The next complete reply, nullopt when more bytes are needed.
  result<std::optional<redis_reply>> next();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The RESP encoding of the command `args` (binary-safe).
std::string format_command(const std::vector<std::string>& args);

}  // namespace neolith::cluster::detail

#endif  // NEOLITH_CLUSTER_DETAIL_REDIS_REPLY_HPP
