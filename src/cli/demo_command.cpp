// `neolith demo`: an embedded cluster of three daemons and a client that drives them, in one
// process (see demo_scenario.hpp for the steps). Exit 0 when every step succeeded, 1 with a
// one-line error when one failed or the demo ran past its time limit, 2 for bad usage.
#include "commands.hpp"
#include "demo_cluster.hpp"
#include "demo_output.hpp"
#include "demo_scenario.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace neolith::cli {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct demo_args {
  bool help = false;
  bool quiet = false;
  std::size_t calls = 300;
  std::chrono::milliseconds time_limit{25'000};
};

std::optional<long long> parse_count(std::string_view v, long long min, long long max) {
  long long out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || p != v.data() + v.size() || out < min || out > max) return std::nullopt;
  return out;
}

/// The parsed arguments, or a usage error message.
std::variant<demo_args, std::string> parse_args(args a) {
  demo_args d;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string_view arg = a[i];
    std::optional<std::string_view> inline_value;
    if (arg.starts_with("--"))
      if (const auto eq = arg.find('='); eq != std::string_view::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    const bool takes_value = arg == "--calls" || arg == "--time-limit-ms";
    if (!takes_value && inline_value) return std::string(arg) + ": takes no value";
    std::string_view value;
    if (takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < a.size()) {
        value = a[++i];
      } else {
        return std::string(arg) + ": missing value";
      }
    }
    if (arg == "-h" || arg == "--help") {
      d.help = true;
    } else if (arg == "-q" || arg == "--quiet") {
      d.quiet = true;
    } else if (arg == "--calls") {
      const auto n = parse_count(value, 1, 100'000);
      if (!n) return "--calls: expected an integer from 1 to 100000, got '" + std::string(value) + "'";
      d.calls = static_cast<std::size_t>(*n);
    } else if (arg == "--time-limit-ms") {
      const auto n = parse_count(value, 1, 3'600'000);
      if (!n) return "--time-limit-ms: expected an integer from 1 to 3600000, got '" + std::string(value) + "'";
      d.time_limit = std::chrono::milliseconds(*n);
    } else {
      return "unknown option '" + std::string(a[i]) + "'";
    }
  }
  return d;
}

int run_demo(const demo_args& d) {
  const auto deadline = std::chrono::steady_clock::now() + d.time_limit;
  demo::printer out(stdout, d.quiet);
  if (!d.quiet)
    out.text(
        "neolith demo: three daemons and the client in one process. Every step below is a real\n"
        "WebSocket exchange over 127.0.0.1; node events are shown as they happen, as [+time] lines.\n");

  demo::cluster daemons(2);  // the daemons' io_context and threads
  asio::io_context client;   // the client's, run by this thread
  demo::scenario_options so;
  so.latency_calls = d.calls;
  std::optional<demo::scenario> sc(std::in_place, client, daemons, out, so);

  bool done = false;
  std::exception_ptr failure;
  const auto on_done = [&](std::exception_ptr e) {
    failure = e;
    done = true;
  };
  asio::co_spawn(client, sc->run(), on_done);
  while (!done) {
    if (std::chrono::steady_clock::now() >= deadline) {
      // Something did not answer in time. Nothing is waited for any more: the process ends here.
      std::fflush(stdout);
      std::fprintf(stderr, "neolith demo: error: %s: the demo did not finish within %lld ms\n", sc->step().c_str(),
                   static_cast<long long>(d.time_limit.count()));
      std::fflush(stderr);
      std::_Exit(1);
    }
    client.run_for(20ms);
    if (client.stopped()) client.restart();
  }

  // Destroy the nodes, then let their connections close (bounded), then the daemons go.
  sc->close_nodes();
  const auto drain_until = std::chrono::steady_clock::now() + 2s;
  while (!client.stopped() && std::chrono::steady_clock::now() < drain_until) client.run_for(20ms);

  if (failure) {
    std::string what = "unknown failure";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      what = e.what();
    }
    std::fflush(stdout);
    std::fprintf(stderr, "neolith demo: error: %s\n", what.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void print_demo_usage() {
  std::printf(
      "usage: neolith demo [options]\n"
      "\n"
      "Runs three daemons (neolith::daemon_server) on 127.0.0.1 in this process and drives them\n"
      "with one daemon_node each: spawns sessions across them, lists them, reads their health,\n"
      "stops one daemon and starts it again on the same port (the node reconnects with backoff and\n"
      "the requests queued meanwhile go out), restores a session on another node, terminates\n"
      "everything and ends with a latency summary (p50/p99 per operation).\n"
      "Exit status: 0 when every step succeeded; 1 with a one-line error when one failed.\n"
      "\n"
      "options:\n"
      "  -q, --quiet           print only the latency summary\n"
      "  --calls N             get_health and get_session calls each in the latency burst (default 300)\n"
      "  --time-limit-ms N     give up (exit 1) when the demo runs longer than N ms (default 25000)\n"
      "  -h, --help            this text\n");
}

int demo_command(args a) {
  const auto parsed = parse_args(a);
  if (const auto* msg = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "neolith demo: %s (try 'neolith demo --help')\n", msg->c_str());
    return 2;
  }
  const auto& d = std::get<demo_args>(parsed);
  if (d.help) {
    print_demo_usage();
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run_demo(d);
  } catch (const std::exception& e) {
    // Resources the demo could not even set up (threads, descriptors...).
    std::fflush(stdout);
    std::fprintf(stderr, "neolith demo: error: cannot set up the demo: %s\n", e.what());
    return 1;
  }
}

}  // namespace neolith::cli
