// `neolith node URL COMMAND`: one operation, its JSON result on stdout.
#include "node_json.hpp"
#include "node_run.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>

namespace neolith::cli {

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

/// Waits until the node is connected, through the reconnection attempts its options allow.
/// Fails with the last attempt's error once the node has given up.
asio::awaitable<result<void>> wait_connected(daemon_node& node) {
  // Subscribed first: no event of the first attempt is missed.
  event_subscription events = node.subscribe();
  auto first = co_await node.connect();
  if (first) co_return first;
  error_info last = first.error();
  // reconnect_failed: no attempt left; tls_config: the node makes no attempt at all.
  if (first.error() == error::reconnect_failed || first.error() == error::tls_config) co_return last;
  // Bounded: each attempt ends within the connect timeout, and there are at most
  // --max-attempts of them before `reconnect-failed`.
  for (;;) {
    auto ev = co_await events.receive();
    if (!ev) co_return ev.error();
    if (std::holds_alternative<event::connected>(ev.value())) co_return outcome::success();
    if (const auto* e = std::get_if<event::error>(&ev.value())) last = e->error;
    if (std::holds_alternative<event::reconnect_failed>(ev.value())) co_return last;
  }
}

std::string_view op_name(node_op op) {
  switch (op) {
    case node_op::health: return "health";
    case node_op::sessions: return "sessions";
    case node_op::info: return "info";
    case node_op::get: return "get";
    case node_op::terminate: return "terminate";
    case node_op::spawn: return "spawn";
    case node_op::restore: return "restore";
  }
  return "?";
}

/// The operation's result as JSON.
asio::awaitable<result<json::value>> perform(daemon_node& node, node_invocation& inv) {
  switch (inv.op) {
    case node_op::health: {
      auto r = co_await node.get_health();
      if (!r) co_return r.error();
      co_return json::value_from(r.value());
    }
    case node_op::sessions: {
      auto r = co_await node.get_sessions();
      if (!r) co_return r.error();
      co_return json::value_from(r.value());
    }
    case node_op::info: {
      auto r = co_await node.get_node_info();
      if (!r) co_return r.error();
      co_return json::value(node_info_json(r.value()));
    }
    case node_op::get: {
      auto r = co_await node.get_session(inv.session_id);
      if (!r) co_return r.error();
      if (!r.value()) co_return json::value(nullptr);
      co_return json::value_from(*r.value());
    }
    case node_op::terminate: {
      auto r = co_await node.terminate_session(inv.session_id);
      if (!r) co_return r.error();
      co_return json::value(r.value());
    }
    case node_op::spawn: {
      auto r = co_await node.spawn_session(inv.spawn);
      if (!r) co_return r.error();
      co_return json::value_from(r.value());
    }
    case node_op::restore: {
      auto r = co_await node.restore_session(inv.serialized);
      if (!r) co_return r.error();
      co_return json::value(r.value());
    }
  }
  co_return error_info(error::invalid_argument, "unknown command");
}

asio::awaitable<void> run_command(daemon_node& node, node_invocation& inv, int& exit_code) {
  exit_code = 1;
  auto connected = co_await wait_connected(node);
  if (!connected) {
    // The library's messages usually name the endpoint already.
    const error_info& e = connected.error();
    print_node_error(e.message.find(inv.endpoint.host) != std::string::npos ? e.what()
                                                                            : "cannot connect to " + inv.url + ": " + e.what());
  } else {
    auto r = co_await perform(node, inv);
    if (!r) {
      print_node_error(std::string(op_name(inv.op)) + " failed: " + r.error().what());
    } else {
      std::string out = json_text(r.value());
      out += '\n';
      if (std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0) {
        exit_code = 0;
      } else {
        print_node_error("cannot write the result to stdout");
      }
    }
  }
  co_await node.disconnect();
}

}  // namespace

int run_node_command(node_invocation& inv) {
  asio::io_context ioc;
  std::optional<daemon_node> node;
  node.emplace(ioc.get_executor(), inv.url, inv.endpoint, inv.capabilities, inv.options);
  int exit_code = 1;
  std::exception_ptr failure;
  auto done = [&failure](std::exception_ptr e) { failure = e; };
  asio::co_spawn(ioc, run_command(*node, inv, exit_code), done);
  ioc.run();
  // The node's destructor finishes on its strand: let it.
  node.reset();
  ioc.restart();
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  return exit_code;
}

}  // namespace neolith::cli
