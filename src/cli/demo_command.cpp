// Placeholder until the demo subcommand lands.
#include "commands.hpp"

#include <cstdio>

namespace neolith::cli {

void print_demo_usage() { std::printf("neolith demo: not available in this build\n"); }

int demo_command(args) {
  std::fprintf(stderr, "neolith demo: not available in this build\n");
  return 2;
}

}  // namespace neolith::cli
