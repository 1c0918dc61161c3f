#include "node_args.hpp"

#include "cli_options.hpp"
#include "node_json.hpp"

#include <neolith/protocol/json.hpp>

#include <string_view>
#include <vector>

namespace neolith::cli {

namespace {

/// The JSON value of file `path` converted to T; a usage_error naming `what` otherwise.
template <class T>
T read_json_file(std::string_view what, const std::string& path, std::string_view type_name) {
  const std::string text = read_input_file(what, path, max_input_file_bytes);
  auto v = parse_json(text);
  if (!v) throw usage_error{std::string(what) + ": '" + path + "': " + one_line(v.error().message)};
  auto t = from_json<T>(v.value());
  if (!t) throw usage_error{std::string(what) + ": '" + path + "' is not a " + std::string(type_name) + ": " + one_line(t.error().message)};
  return std::move(t).value();
}

std::optional<node_op> parse_op(std::string_view s) {
  if (s == "health") return node_op::health;
  if (s == "sessions") return node_op::sessions;
  if (s == "info") return node_op::info;
  if (s == "get") return node_op::get;
  if (s == "terminate") return node_op::terminate;
  if (s == "spawn") return node_op::spawn;
  if (s == "restore") return node_op::restore;
  return std::nullopt;
}

/// The operands each command takes (after its name).
std::size_t operand_count(node_op op) {
  switch (op) {
    case node_op::get:
    case node_op::terminate:
    case node_op::restore: return 1;
    default: return 0;
  }
}

}  // namespace

node_invocation parse_node_args(args a) {
  node_invocation inv;
  node_options& o = inv.options;
  std::vector<std::string_view> positionals;
  std::optional<std::string> capabilities_file;
  std::optional<std::string> task_file;
  std::optional<std::string> description;
  std::optional<session_type> type;
  bool max_attempts_given = false;
  bool options_ended = false;
  bool tls_option_given = false;
  auto file_name = [](std::string_view opt, std::string_view v) {
    if (v.empty()) throw usage_error{std::string(opt) + ": empty file name"};
    return std::string(v);
  };

  arg_cursor c(a);
  while (c.next()) {
    if (options_ended || !c.is_option()) {
      positionals.push_back(c.raw());
      continue;
    }
    const std::string_view name = c.name();
    if (name == "--") {
      options_ended = true;
    } else if (name == "-h" || name == "--help") {
      c.flag();
      inv.help = true;
    } else if (name == "--jsonl") {
      c.flag();
      inv.jsonl = true;
    } else if (name == "--token-file") {
      o.bearer_token = read_token_file(std::string(c.value()));
    } else if (name == "--tls-ca") {
      o.tls.ca_file = file_name(name, c.value());
      tls_option_given = true;
    } else if (name == "--permessage-deflate") {
      c.flag();
      o.permessage_deflate = true;
    } else if (name == "--tls-insecure") {
      c.flag();
      o.tls.verify_peer = false;
      tls_option_given = true;
    } else if (name == "--tls-cert") {
      o.tls.certificate_file = file_name(name, c.value());
      tls_option_given = true;
    } else if (name == "--tls-key") {
      o.tls.private_key_file = file_name(name, c.value());
      tls_option_given = true;
    } else if (name == "--tls-server-name") {
      o.tls.server_name = std::string(c.value());
      if (o.tls.server_name.empty()) throw usage_error{"--tls-server-name: empty name"};
      tls_option_given = true;
    } else if (name == "--capabilities") {
      capabilities_file = std::string(c.value());
      if (capabilities_file->empty()) throw usage_error{"--capabilities: empty file name"};
    } else if (name == "--type") {
      type = parse_type(name, c.value());
    } else if (name == "--task-file") {
      task_file = std::string(c.value());
      if (task_file->empty()) throw usage_error{"--task-file: empty file name"};
    } else if (name == "--description") {
      description = std::string(c.value());
    } else if (name == "--heartbeat-interval-ms") {
      o.heartbeat_interval = parse_ms(name, c.value(), 1);
    } else if (name == "--heartbeat-timeout-ms") {
      o.heartbeat_timeout = parse_ms(name, c.value(), 1);
    } else if (name == "--connect-timeout-ms") {
      o.connect_timeout = parse_ms(name, c.value(), 1);
    } else if (name == "--request-timeout-ms") {
      o.request_timeout = parse_ms(name, c.value(), 1);
      o.health_timeout = o.request_timeout;
    } else if (name == "--backoff-base-ms") {
      o.backoff_base = parse_ms(name, c.value(), 0);
    } else if (name == "--backoff-max-ms") {
      o.backoff_max = parse_ms(name, c.value(), 0);
    } else if (name == "--max-attempts") {
      o.max_attempts = parse_number<int>(name, c.value(), 0, 1'000'000);
      max_attempts_given = true;
    } else if (name == "--queue-max") {
      o.queue_max = parse_number<std::size_t>(name, c.value(), 0, 10'000'000);
    } else if (name == "--jitter") {
      o.jitter = parse_fraction(name, c.value());
    } else if (name == "--max-line-bytes") {
      inv.max_line_bytes = parse_number<std::size_t>(name, c.value(), 16, std::size_t{1} << 30);
    } else if (name == "--max-inflight") {
      inv.max_inflight = parse_number<std::size_t>(name, c.value(), 1, 1'000'000);
    } else {
      throw usage_error{"unknown option '" + std::string(c.raw()) + "'"};
    }
  }
  if (inv.help) return inv;

  if (positionals.empty()) throw usage_error{"missing the daemon's URL (ws://HOST:PORT or wss://HOST:PORT)"};
  inv.url = std::string(positionals.front());
  auto ep = node_endpoint::parse(inv.url);
  if (!ep) throw usage_error{"'" + inv.url + "': " + one_line(ep.error().message.empty() ? ep.error().what() : ep.error().message)};
  inv.endpoint = std::move(ep).value();
  if (tls_option_given && !inv.endpoint.tls) throw usage_error{"the --tls-* options need a wss:// URL"};
  if (!o.tls.certificate_file.empty() && o.tls.private_key_file.empty())
    throw usage_error{"--tls-cert needs --tls-key"};
  if (o.tls.certificate_file.empty() && !o.tls.private_key_file.empty())
    throw usage_error{"--tls-key needs --tls-cert"};
  if (o.backoff_max < o.backoff_base) throw usage_error{"--backoff-max-ms is below --backoff-base-ms"};

  const bool spawn_options = type || task_file || description;
  if (inv.jsonl) {
    if (positionals.size() > 1)
      throw usage_error{"--jsonl takes no command (got '" + std::string(positionals[1]) + "')"};
    if (spawn_options) throw usage_error{"--type, --task-file and --description belong to the spawn command"};
  } else {
    if (positionals.size() < 2)
      throw usage_error{"missing a command (health, sessions, info, get, terminate, spawn, restore) or --jsonl"};
    const auto op = parse_op(positionals[1]);
    if (!op) throw usage_error{"unknown command '" + std::string(positionals[1]) + "'"};
    inv.op = *op;
    const std::size_t want = operand_count(*op);
    if (positionals.size() - 2 < want)
      throw usage_error{std::string(positionals[1]) + ": missing " +
                        (*op == node_op::restore ? "the file (or '-' for stdin)" : "the session id")};
    if (positionals.size() - 2 > want)
      throw usage_error{std::string(positionals[1]) + ": unexpected argument '" + std::string(positionals[2 + want]) + "'"};
    if (*op != node_op::spawn && spawn_options)
      throw usage_error{"--type, --task-file and --description belong to the spawn command"};
    if (max_attempts_given == false) o.max_attempts = 2;  // one-shot: give up after a few seconds

    switch (*op) {
      case node_op::get:
      case node_op::terminate:
        inv.session_id = std::string(positionals[2]);
        if (inv.session_id.empty()) throw usage_error{std::string(positionals[1]) + ": the session id is empty"};
        break;
      case node_op::spawn:
        if (!type) throw usage_error{"spawn: missing --type (claude-code, claude-flow, ruflo)"};
        if (task_file && description) throw usage_error{"spawn: give --task-file or --description, not both"};
        if (!task_file && !description) throw usage_error{"spawn: missing --task-file F or --description TEXT"};
        inv.spawn.orchestrator_id = "neolith-cli";
        inv.spawn.type = *type;
        inv.spawn.task = task_file ? read_json_file<task>("--task-file", *task_file, "Task") : make_task(*description);
        break;
      case node_op::restore:
        inv.serialized = read_json_file<serialized_session>("restore", std::string(positionals[2]), "SerializedSession");
        break;
      default: break;
    }
  }
  if (capabilities_file)
    inv.capabilities = read_json_file<node_capabilities>("--capabilities", *capabilities_file, "NodeCapabilities");
  return inv;
}

}  // namespace neolith::cli
