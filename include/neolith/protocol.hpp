// The wire protocol: the data types, the messages, their JSON, the Prometheus text helpers.
#ifndef NEOLITH_PROTOCOL_HPP
#define NEOLITH_PROTOCOL_HPP

#include <neolith/protocol/json.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/prometheus.hpp>
#include <neolith/protocol/types.hpp>

#endif  // NEOLITH_PROTOCOL_HPP
