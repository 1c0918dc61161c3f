// Placeholder until the node subcommand lands.
#include "commands.hpp"

#include <cstdio>

namespace neolith::cli {

void print_node_usage() { std::printf("neolith node: not available in this build\n"); }

int node_command(args) {
  std::fprintf(stderr, "neolith node: not available in this build\n");
  return 2;
}

}  // namespace neolith::cli
