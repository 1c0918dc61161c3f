// The two modes of `neolith node`: one command, or JSON lines.
#ifndef NEOLITH_CLI_NODE_RUN_HPP
#define NEOLITH_CLI_NODE_RUN_HPP

#include "node_args.hpp"

namespace neolith::cli {

/// Connects (waiting through the reconnection attempts --max-attempts allows), runs the one
/// command, prints its JSON result. 0 on success, 1 when connecting or the operation failed
/// (one line on stderr).
int run_node_command(node_invocation& inv);

/// The JSON-lines driver (node_jsonl.cpp): requests from stdin run concurrently, results and
/// events go to stdout one line each. 0 after end of input, 1 when stdin or stdout failed.
int run_node_jsonl(node_invocation& inv);

/// "neolith node: <text>" on stderr, one line.
void print_node_error(const std::string& text);

}  // namespace neolith::cli

#endif  // NEOLITH_CLI_NODE_RUN_HPP
