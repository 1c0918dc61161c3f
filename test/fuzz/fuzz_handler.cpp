// libFuzzer target for the daemon's request handler: decode + dispatch against an in-memory
// session registry (the inproc runner), exactly as a connection calls it, without sockets.
// Any input must get a well-formed answer (or none, for a client's heartbeat_ack) that a
// client can decode, that respects the size limit and carries the request's readable
// requestId; nothing may crash, leak or grow without bound.
#include <neolith/daemon/detail/daemon_core.hpp>
#include <neolith/protocol/messages.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_handler: %s: %.*s\n", what, static_cast<int>(detail.size() > 400 ? 400 : detail.size()),
               detail.data());
  std::abort();
}

neolith::daemon_options fuzz_options() {
  neolith::daemon_options o;
  o.node_id = "fuzz-node";
  o.max_sessions = 64;
  o.max_ended_sessions = 64;
  o.idempotency_max_entries = 1000;
  o.idempotency_max_bytes = 4u << 20;
  o.max_message_bytes = 64 * 1024;
  return o;
}

bool is_answer(neolith::message_type t) {
  using neolith::message_type;
  switch (t) {
    case message_type::session_spawned:
    case message_type::session_state:
    case message_type::session_terminated:
    case message_type::session_restored:
    case message_type::health_response:
    case message_type::sessions_response:
    case message_type::heartbeat_ack:
    case message_type::node_info:
    case message_type::error:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const neolith::daemon_options opts = fuzz_options();
  static neolith::detail::daemon_core core(opts, neolith::make_inproc_runner());
  static neolith::decoder d(neolith::decode_options{opts.max_message_bytes, neolith::max_json_depth});
  static neolith::decoder client;  // how a client reads the answer

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > opts.max_message_bytes) return 0;  // the WebSocket layer closes with 1009 first

  const std::string answer = core.handle_text(d, text);
  const auto readable_id = d.request_id();
  if (answer.empty()) {
    // Only a client's heartbeat_ack, or a requestId too long to answer within the limit.
    const bool ack = d.request_type() && *d.request_type() == "heartbeat_ack";
    // Or an envelope too large for even a response_too_large error to fit the size limit.
    neolith::msg::error e;
    e.request_id = readable_id;
    e.request_type = d.request_type();
    e.text = std::string(100, 'x');
    e.code = "response_too_large";
    const bool unanswerable = neolith::encode(neolith::message(e)).size() > opts.max_message_bytes;
    if (!ack && !unanswerable) fail("no answer", text);
    return 0;
  }
  if (answer.size() > opts.max_message_bytes) fail("answer above the size limit", answer);
  auto m = client.decode(answer);
  if (!m) fail("the answer does not decode", answer);
  if (!is_answer(neolith::type_of(m.value()))) fail("not an answer type", answer);
  if (neolith::request_id_of(m.value()) != readable_id) fail("requestId not echoed", answer);

  // Bounded state: the registry never holds more than live + retained sessions.
  if (core.registry().listed_count() > opts.max_sessions + opts.max_ended_sessions) fail("registry grows", answer);
  return 0;
}
