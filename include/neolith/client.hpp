// The client: daemon_node, its options, events, deadlines, fan-out and metrics.
#ifndef NEOLITH_CLIENT_HPP
#define NEOLITH_CLIENT_HPP

#include <neolith/client/daemon_node.hpp>
#include <neolith/client/deadline.hpp>
#include <neolith/client/fan_out.hpp>
#include <neolith/client/metrics.hpp>
#include <neolith/client/node_endpoint.hpp>
#include <neolith/client/node_events.hpp>
#include <neolith/client/node_options.hpp>
#include <neolith/client/node_statistics.hpp>

#endif  // NEOLITH_CLIENT_HPP
