// `neolith`: one executable, one subcommand per role.
#include "commands.hpp"

#include <neolith/core/version.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: neolith <command> [options]\n"
               "\n"
               "commands:\n"
               "  daemon   run a daemon node that hosts sessions (neolith daemon --help)\n"
               "  node     drive a remote daemon: one command, or JSON lines (neolith node --help)\n"
               "  demo     run an embedded three-node cluster and show the client at work\n"
               "\n"
               "options:\n"
               "  -h, --help     this text\n"
               "  --version      print the version\n");
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string_view cmd = argv[1];
  const neolith::cli::args rest(argv + 2, static_cast<std::size_t>(argc - 2));
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    print_usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("neolith %s (protocol %d)\n", neolith::version_string, neolith::version_protocol);
    return 0;
  }
  if (cmd == "daemon") return neolith::cli::daemon_command(rest);
  if (cmd == "node") return neolith::cli::node_command(rest);
  if (cmd == "demo") return neolith::cli::demo_command(rest);
  std::fprintf(stderr, "neolith: unknown command '%s' (try 'neolith --help')\n", argv[1]);
  return 2;
} catch (const std::exception& e) {
  std::fprintf(stderr, "neolith: fatal: %s\n", e.what());
  return 1;
}
