// The whole public API of neolith.
#ifndef NEOLITH_NEOLITH_HPP
#define NEOLITH_NEOLITH_HPP

#include <neolith/circuit_breaker.hpp>
#include <neolith/daemon_node.hpp>
#include <neolith/daemon_options.hpp>
#include <neolith/daemon_server.hpp>
#include <neolith/deadline.hpp>
#include <neolith/error.hpp>
#include <neolith/fan_out.hpp>
#include <neolith/json.hpp>
#include <neolith/log.hpp>
#include <neolith/metrics.hpp>
#include <neolith/node_endpoint.hpp>
#include <neolith/node_events.hpp>
#include <neolith/node_options.hpp>
#include <neolith/protocol.hpp>
#include <neolith/session_runner.hpp>
#include <neolith/types.hpp>
#include <neolith/version.hpp>

#endif  // NEOLITH_NEOLITH_HPP
