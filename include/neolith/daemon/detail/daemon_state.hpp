// The daemon's persistent state (`--state-dir`): opening the session journal at start,
// listing its sessions again, and compacting it from time to time.
#ifndef NEOLITH_DAEMON_DETAIL_DAEMON_STATE_HPP
#define NEOLITH_DAEMON_DETAIL_DAEMON_STATE_HPP

#include <neolith/core/error.hpp>
#include <neolith/daemon/detail/daemon_core.hpp>

namespace neolith::detail {

/// With `state_dir` set: opens its journal, lists its sessions in the registry (live ones
/// running again with the in-process runner, `failed` otherwise), compacts it and journals
/// every change from now on. Call before the first request. Fails on an unusable directory or
/// a corrupt journal (the message says which file and where).
result<void> open_state(daemon_core& core);

/// Compacts the journal when it has grown well beyond its sessions (on the sampling timer).
void maintain_state(daemon_core& core);

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_DAEMON_STATE_HPP
