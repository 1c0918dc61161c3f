// What both modes of `neolith node` write and read: errors, node info and events as JSON, JSON
// input with limits, and the Task a `spawn --description` makes.
#ifndef NEOLITH_CLI_NODE_JSON_HPP
#define NEOLITH_CLI_NODE_JSON_HPP

#include <neolith/client/node_events.hpp>
#include <neolith/core/error.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace neolith::cli {

/// {"code": stable name (error_code_name), "message": the human-readable text}.
boost::json::object error_json(const error_info& e);

/// {"nodeId", "version", "protocolVersion", "capabilities"}.
boost::json::object node_info_json(const msg::node_info& info);

/// {"event": the seed's name, ...the event's fields}.
boost::json::object event_json(const node_event& e);

/// Parses one JSON text (nesting bounded by the protocol's limit). Fails with
/// `error::invalid_json` and the parser's message.
result<boost::json::value> parse_json(std::string_view text);

/// `v` as JSON text, numbers written as the wire writes them (plain decimals, never the
/// exponent form of Boost.JSON's serializer: "cpuUsage":11.36, not 1.136E1).
std::string json_text(const boost::json::value& v);
std::string json_text(const boost::json::object& o);

/// A random version 4 UUID ("6f1c...-4...-8...").
std::string random_uuid();

/// A new Task for `description`: a random id, type general, priority medium, status pending,
/// created and updated now.
task make_task(std::string description);

/// `text` on one line: CR and LF become spaces (for one-line errors on stderr).
std::string one_line(std::string text);

}  // namespace neolith::cli

#endif  // NEOLITH_CLI_NODE_JSON_HPP
