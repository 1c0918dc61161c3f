// The command line of `neolith node`, parsed and checked before anything connects.
#ifndef NEOLITH_CLI_NODE_ARGS_HPP
#define NEOLITH_CLI_NODE_ARGS_HPP

#include "commands.hpp"

#include <neolith/client/node_endpoint.hpp>
#include <neolith/client/node_options.hpp>
#include <neolith/protocol/types.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace neolith::cli {

/// The one-shot commands.
enum class node_op { health, sessions, info, get, terminate, spawn, restore };

struct node_invocation {
  bool help = false;

  std::string url;
  node_endpoint endpoint;
  node_options options;
  /// --capabilities FILE; unset: learned from the daemon's node_info.
  std::optional<node_capabilities> capabilities;

  /// --jsonl: requests on stdin, results and events on stdout.
  bool jsonl = false;
  /// --max-line-bytes: longer input lines are refused (jsonl).
  std::size_t max_line_bytes = std::size_t{16} << 20;
  /// --max-inflight: reading stdin pauses while this many requests are unanswered (jsonl).
  std::size_t max_inflight = 4096;

  // One-shot command.
  node_op op = node_op::health;
  std::string session_id;            ///< get, terminate
  session_spawn_request spawn;       ///< spawn (built from --type and the task)
  serialized_session serialized;     ///< restore
};

/// The largest file --task-file, --capabilities and restore read (64 MiB).
inline constexpr std::size_t max_input_file_bytes = std::size_t{64} << 20;

/// Parses the arguments after `node`. Throws usage_error (exit 2) for anything wrong, files
/// included (unreadable, not JSON, not the expected type).
node_invocation parse_node_args(args a);

}  // namespace neolith::cli

#endif  // NEOLITH_CLI_NODE_ARGS_HPP
