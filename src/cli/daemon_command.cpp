// Placeholder until the daemon subcommand lands.
#include "commands.hpp"

#include <cstdio>

namespace neolith::cli {

void print_daemon_usage() { std::printf("neolith daemon: not available in this build\n"); }

int daemon_command(args) {
  std::fprintf(stderr, "neolith daemon: not available in this build\n");
  return 2;
}

}  // namespace neolith::cli
