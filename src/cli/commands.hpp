// The subcommands of the `neolith` executable. Each returns the process exit code:
// 0 success, 1 an operation failed, 2 bad usage.
#ifndef NEOLITH_CLI_COMMANDS_HPP
#define NEOLITH_CLI_COMMANDS_HPP

#include <span>
#include <string_view>

namespace neolith::cli {

/// The arguments after the subcommand's name.
using args = std::span<char* const>;

int daemon_command(args a);  // neolith daemon ...   (daemon_command.cpp)
int node_command(args a);    // neolith node URL ... (node_command.cpp)
int demo_command(args a);    // neolith demo ...     (demo_command.cpp)

void print_daemon_usage();
void print_node_usage();
void print_demo_usage();

}  // namespace neolith::cli

#endif  // NEOLITH_CLI_COMMANDS_HPP
