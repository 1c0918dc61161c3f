// The daemon: daemon_server, its options, session runners, log and metrics.
#ifndef NEOLITH_DAEMON_HPP
#define NEOLITH_DAEMON_HPP

#include <neolith/daemon/daemon_options.hpp>
#include <neolith/daemon/daemon_server.hpp>
#include <neolith/daemon/daemon_stats.hpp>
#include <neolith/daemon/log.hpp>
#include <neolith/daemon/metrics.hpp>
#include <neolith/daemon/session_runner.hpp>

#endif  // NEOLITH_DAEMON_HPP
