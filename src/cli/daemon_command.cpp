// `neolith daemon`: runs a daemon node (neolith::daemon_server) until SIGINT/SIGTERM.
#include "cli_options.hpp"
#include "commands.hpp"

#include <neolith/daemon/daemon_server.hpp>
#include <neolith/daemon/log.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace neolith::cli {

namespace {

namespace asio = boost::asio;

void parse_listen(std::string_view v, daemon_options& o) {
  std::string_view host, port;
  if (v.starts_with("[")) {
    const auto close = v.find(']');
    if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':')
      throw usage_error{"--listen: expected HOST:PORT or [IPV6]:PORT, got '" + std::string(v) + "'"};
    host = v.substr(1, close - 1);
    port = v.substr(close + 2);
  } else {
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos)
      throw usage_error{"--listen: expected HOST:PORT, got '" + std::string(v) + "'"};
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  if (host.empty()) throw usage_error{"--listen: the host is empty"};
  o.host = std::string(host);
  o.port = parse_number<std::uint16_t>("--listen port", port, 0, 65535);
}

struct parsed {
  daemon_options opts;
  bool help = false;
  bool quiet = false;
};

/// The value of an option that names one of a set: `parse` gives nullopt for anything else,
/// refused with the names `expected`.
template <class Parse>
auto parse_choice(std::string_view opt, std::string_view v, Parse parse, std::string_view expected) {
  auto r = parse(v);
  if (!r) throw usage_error{std::string(opt) + ": expected " + std::string(expected) + ", got '" + std::string(v) + "'"};
  return *r;
}

/// A file name option's value (non-empty).
std::string file_value(std::string_view opt, std::string_view v) {
  if (v.empty()) throw usage_error{std::string(opt) + ": empty file name"};
  return std::string(v);
}

parsed parse_args(args a) {
  parsed p;
  daemon_options& o = p.opts;
  bool types_given = false;
  std::optional<std::string> tls_cert, tls_key, tls_client_ca;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string_view arg = a[i];
    std::optional<std::string_view> inline_value;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    }
    auto value = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= a.size()) throw usage_error{std::string(arg) + ": missing value"};
      return a[++i];
    };
    auto flag = [&] {
      if (inline_value) throw usage_error{std::string(arg) + ": takes no value"};
    };
    if (arg == "-h" || arg == "--help") {
      p.help = true;
    } else if (arg == "--listen") {
      parse_listen(value(), o);
    } else if (arg == "--node-id") {
      o.node_id = std::string(value());
      if (o.node_id.empty()) throw usage_error{"--node-id: empty"};
    } else if (arg == "--max-sessions") {
      o.max_sessions = parse_number<std::size_t>(arg, value(), 0, 1'000'000);
    } else if (arg == "--session-types") {
      types_given = true;
      o.session_types.clear();
      std::string_view list = value();
      while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view item = list.substr(0, comma);
        const session_type t = parse_type(arg, item);
        for (session_type have : o.session_types)
          if (have == t) throw usage_error{"--session-types: '" + std::string(item) + "' listed twice"};
        o.session_types.push_back(t);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
        if (list.empty()) throw usage_error{"--session-types: trailing comma"};
      }
    } else if (arg == "--token-file") {
      o.token = read_token_file(std::string(value()));
    } else if (arg == "--tls-cert") {
      tls_cert = file_value(arg, value());
    } else if (arg == "--tls-key") {
      tls_key = file_value(arg, value());
    } else if (arg == "--tls-client-ca") {
      tls_client_ca = file_value(arg, value());
    } else if (arg == "--heartbeat-interval-ms") {
      o.heartbeat_interval = parse_ms(arg, value(), 1);
    } else if (arg == "--heartbeat-timeout-ms") {
      o.heartbeat_timeout = parse_ms(arg, value(), 1);
    } else if (arg == "--threads") {
      o.threads = parse_number<unsigned>(arg, value(), 0, 1024);
    } else if (arg == "--runner") {
      o.runner = parse_choice(arg, value(), parse_runner_kind, "inproc or process");
    } else if (arg == "--exec") {
      const std::string_view v = value();
      const auto eq = v.find('=');
      if (eq == std::string_view::npos || eq + 1 >= v.size())
        throw usage_error{"--exec: expected TYPE=COMMAND, got '" + std::string(v) + "'"};
      const session_type t = parse_type(arg, v.substr(0, eq));
      if (o.exec.contains(t)) throw usage_error{"--exec: two commands for " + std::string(to_string(t))};
      o.exec.emplace(t, std::string(v.substr(eq + 1)));
    } else if (arg == "--max-message-bytes") {
      o.max_message_bytes = parse_number<std::size_t>(arg, value(), 1024, std::size_t{1} << 30);
    } else if (arg == "--terminate-grace-ms") {
      o.terminate_grace = parse_ms(arg, value(), 0);
    } else if (arg == "--response-delay-ms") {
      o.response_delay = parse_ms(arg, value(), 0);
    } else if (arg == "--permessage-deflate") {
      flag();
      o.permessage_deflate = true;
    } else if (arg == "--deflate-threshold") {
      o.deflate_threshold = parse_number<std::size_t>(arg, value(), 0, std::size_t{1} << 30);
    } else if (arg == "--deflate-level") {
      o.deflate_level = parse_number<int>(arg, value(), 1, 9);
    } else if (arg == "--gpu") {
      flag();
      o.has_gpu_access = true;
    } else if (arg == "--high-memory") {
      flag();
      o.has_high_memory = true;
    } else if (arg == "--capability") {
      const std::string_view v = value();
      const auto eq = v.find('=');
      const std::string_view name = v.substr(0, eq);
      const std::string_view flag_value = eq == std::string_view::npos ? "true" : v.substr(eq + 1);
      if (name.empty() || (flag_value != "true" && flag_value != "false"))
        throw usage_error{"--capability: expected NAME[=true|false], got '" + std::string(v) + "'"};
      o.custom_capabilities[std::string(name)] = flag_value == "true";
    } else if (arg == "--state-dir") {
      o.state_dir = file_value(arg, value());
    } else if (arg == "--metrics-public") {
      flag();
      o.metrics_public = true;
    } else if (arg == "--log-level") {
      o.log_threshold = parse_choice(arg, value(), parse_log_level, "debug, info, warning, error or off");
    } else if (arg == "--log-format") {
      o.log_line_format = parse_choice(arg, value(), parse_log_format, "text or json");
    } else if (arg == "--quiet") {
      flag();
      p.quiet = true;
    } else {
      throw usage_error{"unknown option '" + std::string(a[i]) + "'"};
    }
  }
  if (tls_cert && !tls_key) throw usage_error{"--tls-cert needs --tls-key"};
  if (tls_key && !tls_cert) throw usage_error{"--tls-key needs --tls-cert"};
  if (tls_client_ca && !tls_cert) throw usage_error{"--tls-client-ca needs --tls-cert and --tls-key"};
  if (tls_cert) {
    // The files are read by start(): a file that cannot be used is an error (exit 1), not bad usage.
    o.tls.emplace();
    o.tls->certificate_chain_file = *tls_cert;
    o.tls->private_key_file = *tls_key;
    if (tls_client_ca) o.tls->client_ca_file = *tls_client_ca;
  }
  if (o.runner == runner_kind::process && o.exec.empty())
    throw usage_error{"--runner process needs at least one --exec TYPE=COMMAND"};
  if (o.runner == runner_kind::process && !types_given) {
    // The process runner serves the types it has a command for.
    o.session_types.clear();
    for (const auto& [t, cmd] : o.exec) o.session_types.push_back(t);
  }
  if (auto v = validate(o); !v) throw usage_error{v.error().message};
  return p;
}

/// The daemon's lines (already stamped and formatted) on stderr, one write each.
void log_line(std::string_view line) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
}

}  // namespace

void print_daemon_usage() {
  std::printf(
      "usage: neolith daemon [options]\n"
      "\n"
      "Runs a daemon node: a WebSocket server (protocol v1) that hosts sessions.\n"
      "Prints 'listening on ws://HOST:PORT' (wss:// with TLS) once it accepts connections;\n"
      "SIGINT/SIGTERM stop it (connections closed with 1001, sessions ended, exit 0).\n"
      "On the same port: GET /metrics (Prometheus text), /healthz and /readyz (200 or 503).\n"
      "\n"
      "options:\n"
      "  --listen HOST:PORT          address to listen on (default 127.0.0.1:0; port 0 picks a free one)\n"
      "  --node-id ID                node id (default HOSTNAME:PORT)\n"
      "  --max-sessions N            maximum concurrent sessions (default 100)\n"
      "  --session-types LIST        supported session types, comma-separated\n"
      "                              (default claude-code,claude-flow; with --runner process: the --exec types)\n"
      "  --token-file F              require 'Authorization: Bearer <token>' (the file's content, trailing\n"
      "                              newline excluded)\n"
      "  --tls-cert F                serve wss://: the certificate chain (PEM: the certificate, then its\n"
      "                              intermediates); needs --tls-key\n"
      "  --tls-key F                 the certificate's private key (PEM, unencrypted)\n"
      "  --tls-client-ca F           require client certificates signed by the CA(s) in F (PEM; mutual TLS)\n"
      "  --heartbeat-interval-ms N   daemon heartbeat period (default 10000)\n"
      "  --heartbeat-timeout-ms N    close silent clients after N ms (default 60000)\n"
      "  --threads N                 io threads (default 0: hardware concurrency)\n"
      "  --runner inproc|process     session runner (default inproc)\n"
      "  --exec TYPE=COMMAND         process runner: run COMMAND with /bin/sh -c for each session of TYPE\n"
      "                              (repeatable)\n"
      "  --max-message-bytes N       maximum message size (default 1048576)\n"
      "  --terminate-grace-ms N      process runner: SIGKILL this long after SIGTERM (default 2000)\n"
      "  --response-delay-ms N       hold every answer back N ms (testing; default 0)\n"
      "  --permessage-deflate        negotiate permessage-deflate with clients that offer it\n"
      "  --deflate-threshold N       compress the messages of N bytes or more (default 1024)\n"
      "  --deflate-level N           zlib level, 1 fastest to 9 smallest (default 1)\n"
      "  --gpu, --high-memory        announce hasGPUAccess / hasHighMemory\n"
      "  --capability NAME[=BOOL]    announce a custom capability (repeatable)\n"
      "  --state-dir DIR             keep the sessions in DIR/sessions.journal (fsynced before answering);\n"
      "                              restarted on DIR, the daemon lists them again: ended ones as they\n"
      "                              were, live ones running again (inproc) or failed (process runner)\n"
      "  --metrics-public            serve GET /metrics, /healthz, /readyz without the token\n"
      "                              (they are served on the same port and TLS; with --token-file they\n"
      "                              need the token unless this is given)\n"
      "  --log-level L               debug, info (default), warning, error or off\n"
      "  --log-format text|json      log lines on stderr as text (default) or JSON objects with ts, level,\n"
      "                              event and the ids involved (node, connection, session, requestId)\n"
      "  --quiet                     no log lines on stderr (as --log-level off)\n"
      "  -h, --help                  this text\n");
}

int daemon_command(args a) {
  parsed p;
  try {
    p = parse_args(a);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "neolith daemon: %s (try 'neolith daemon --help')\n", e.message.c_str());
    return 2;
  }
  if (p.help) {
    print_daemon_usage();
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);

  daemon_options opts = std::move(p.opts);
  if (!p.quiet) opts.log = log_line;
  unsigned threads = opts.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());

  asio::io_context ioc(static_cast<int>(threads));
  // Signals first, so that a signal arriving while we start is not lost.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  daemon_server server(ioc, opts);
  auto ep = server.start();
  if (!ep) {
    std::fprintf(stderr, "neolith daemon: %s\n", ep.error().what().c_str());
    return 1;
  }
  const auto addr = ep.value().address();
  const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  std::printf("listening on %s://%s:%u\n", opts.tls ? "wss" : "ws", host.c_str(),
              static_cast<unsigned>(ep.value().port()));
  std::fflush(stdout);

  // Graceful stop on the first signal, bounded: whatever is left after 4.5 s is aborted so
  // the process exits within 5 s. A second signal aborts at once.
  asio::steady_timer deadline(ioc);
  std::atomic<int> signals_seen{0};
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (signals_seen.fetch_add(1) == 0) {
        if (opts.log && opts.log_threshold <= log_level::info) {
          const std::string text = "signal " + std::to_string(sig) + ": stopping";
          log_record r;
          r.event = "daemon";
          r.message = text;
          opts.log(format_log_line(r, opts.log_line_format, std::chrono::system_clock::now()));
        }
        server.stop();
        deadline.expires_after(std::chrono::milliseconds(4500));
        deadline.async_wait([&](boost::system::error_code dec) {
          if (!dec) server.abort();
        });
      } else {
        server.abort();
      }
      wait_signal();
    });
  };
  wait_signal();
  server.on_stopped([&] {
    boost::system::error_code ignored;
    signals.cancel(ignored);
    deadline.cancel();
    ioc.stop();
  });

  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}

}  // namespace neolith::cli
