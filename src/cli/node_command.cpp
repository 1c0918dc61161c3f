// `neolith node URL ...`: drives a remote daemon through neolith::daemon_node, one command at a
// time (node_oneshot.cpp) or as a JSON-lines service on stdin/stdout (node_jsonl.cpp).
#include "cli_options.hpp"
#include "commands.hpp"
#include "node_args.hpp"
#include "node_json.hpp"
#include "node_run.hpp"

#include <csignal>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace neolith::cli {

void print_node_usage() {
  std::printf(
      "usage: neolith node URL [options] COMMAND [ARG]\n"
      "       neolith node URL [options] --jsonl\n"
      "\n"
      "Drives the daemon at URL (ws://HOST[:PORT][/PATH], or wss://... for TLS).\n"
      "\n"
      "commands (the result as JSON on stdout, exit 0; a one-line error on stderr and exit 1 when\n"
      "connecting or the operation fails, exit 2 for bad usage):\n"
      "  health                     the node's health (NodeHealth)\n"
      "  sessions                   the node's live and recently ended sessions (array of Session)\n"
      "  info                       {nodeId, version, protocolVersion, capabilities}\n"
      "  get ID                     the session, or null when the node does not know ID\n"
      "  terminate ID               true when a live session was ended, false otherwise\n"
      "  spawn --type T (--task-file F | --description TEXT)\n"
      "                             spawn a session of type T (claude-code, claude-flow, ruflo) for the Task\n"
      "                             in F, or for a new general/medium/pending Task with TEXT\n"
      "                             (orchestratorId \"neolith-cli\"); prints the Session\n"
      "  restore FILE               restore the SerializedSession in FILE ('-': stdin); true when\n"
      "                             recreated, false when a live session has its id\n"
      "\n"
      "--jsonl: one JSON request a line on stdin, {\"id\": ID, \"op\": OP, ...fields, \"deadlineMs\"?: N}:\n"
      "  spawn_session + request (SessionSpawnRequest), get_session + sessionId, terminate_session\n"
      "  + sessionId, restore_session + serializedSession, get_sessions, get_health, get_node_info.\n"
      "  Requests run concurrently; each result is one line {\"id\", \"ok\": true, \"value\"} or\n"
      "  {\"id\", \"ok\": false, \"error\": {\"code\", \"message\"}}; each node event is one line\n"
      "  {\"event\": NAME, ...fields}. A malformed line gets error code invalid_request. At end of\n"
      "  input: waits for the requests still running, disconnects, exits 0.\n"
      "\n"
      "options:\n"
      "  --token-file F             bearer token for the daemon (the file's content, trailing\n"
      "                             newline excluded)\n"
      "  --tls-ca F                 wss://: trust the CA certificate(s) in F (PEM) instead of the\n"
      "                             system's CA store\n"
      "  --tls-insecure             wss://: do not verify the daemon's certificate (testing only)\n"
      "  --tls-cert F --tls-key K   wss://: client certificate (PEM chain) and its private key, for a\n"
      "                             daemon that requires one\n"
      "  --tls-server-name NAME     wss://: the name to check the daemon's certificate against (and\n"
      "                             send in SNI); default: the URL's host\n"
      "  --capabilities FILE        the node's NodeCapabilities (JSON); default: from get_node_info\n"
      "  --jsonl                    the JSON-lines mode above\n"
      "  --permessage-deflate       offer compression (RFC 7692); messages of 1024 bytes or more\n"
      "                             are sent compressed when the daemon agrees\n"
      "  --connect-timeout-ms N     one connection attempt (default 10000)\n"
      "  --request-timeout-ms N     a request's deadline (default 30000; health 5000)\n"
      "  --heartbeat-interval-ms N  client heartbeat period (default 10000)\n"
      "  --heartbeat-timeout-ms N   a silent connection is dead after N ms (default 60000)\n"
      "  --backoff-base-ms N        first reconnection delay, doubled each attempt (default 1000)\n"
      "  --backoff-max-ms N         longest reconnection delay (default 60000)\n"
      "  --max-attempts N           reconnection attempts before giving up (default 2 for a\n"
      "                             command, 10 with --jsonl)\n"
      "  --jitter F                 randomised fraction of each delay, 0 to 1 (default 0: off)\n"
      "  --queue-max N              requests that may wait for a connection (default 1000)\n"
      "  --max-line-bytes N         longest input line with --jsonl (default 16777216)\n"
      "  --max-inflight N           with --jsonl, stop reading while N requests run (default 4096)\n"
      "  -h, --help                 this text\n"
      "\n"
      "Options take their value as the next argument or after '=' (--max-attempts=0).\n");
}

void print_node_error(const std::string& text) {
  const std::string line = one_line(text);
  std::fprintf(stderr, "neolith node: %s\n", line.c_str());
  std::fflush(stderr);
}

namespace {

/// Makes sure descriptors 0 and 2 are open (on /dev/null when they were closed), so that no
/// socket or pipe opened later takes their number and gets read as stdin or written as
/// stderr. False when stdout is closed: results would have nowhere to go.
bool standard_descriptors_ok() {
  if (::fcntl(1, F_GETFD) < 0) {
    std::fprintf(stderr, "neolith node: stdout is not open\n");
    return false;
  }
  for (int fd : {0, 2}) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    const int n = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);  // the lowest free number: fd
    if (n >= 0 && n != fd) {
      ::dup2(n, fd);
      ::close(n);
    }
  }
  return true;
}

}  // namespace

int node_command(args a) {
  if (!standard_descriptors_ok()) return 1;
  node_invocation inv;
  try {
    inv = parse_node_args(a);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "neolith node: %s (try 'neolith node --help')\n", one_line(e.message).c_str());
    return 2;
  }
  if (inv.help) {
    print_node_usage();
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  return inv.jsonl ? run_node_jsonl(inv) : run_node_command(inv);
}

}  // namespace neolith::cli
