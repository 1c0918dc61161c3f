// The counters of a daemon_node.
#ifndef NEOLITH_CLIENT_NODE_STATISTICS_HPP
#define NEOLITH_CLIENT_NODE_STATISTICS_HPP

#include <cstdint>

namespace neolith {

/// Counters of a node since it was made (monotonic; thread-safe to read).
struct node_statistics {
  std::uint64_t requests = 0;            ///< requests accepted (not refused at once)
  std::uint64_t frames_sent = 0;         ///< request frames written, re-sends included
  std::uint64_t socket_writes = 0;       ///< socket writes made (every frame ready at once leaves in one)
  std::uint64_t resent = 0;              ///< written requests queued again for re-sending after a lost connection
  std::uint64_t answered = 0;            ///< answers routed to a waiting caller
  std::uint64_t timeouts = 0;            ///< requests ended by their deadline
  std::uint64_t cancelled = 0;           ///< requests cancelled by their caller
  std::uint64_t unmatched_replies = 0;   ///< answers nobody waited for (dropped)
  std::uint64_t invalid_frames = 0;      ///< frames from the daemon that did not decode
  std::uint64_t connections = 0;         ///< connections established
  std::uint64_t connection_losses = 0;   ///< connections lost (not by disconnect())
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t dropped_events = 0;      ///< events dropped from subscriptions that lagged
  /// permessage-deflate: frames sent compressed, and the bytes of their messages before and
  /// after compression.
  std::uint64_t frames_compressed = 0;
  std::uint64_t deflate_input_bytes = 0;
  std::uint64_t deflate_output_bytes = 0;
};

}  // namespace neolith

#endif  // NEOLITH_CLIENT_NODE_STATISTICS_HPP
