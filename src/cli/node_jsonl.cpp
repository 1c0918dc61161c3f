// `neolith node URL --jsonl`: a JSON-lines service over one daemon_node.
//
// Threads: the io_context runs on the main thread, and so do the node's strand, every request
// coroutine, the event listener and the writer: stdout has one writer and lines never
// interleave. stdin is read on the line_reader's thread, which posts each line to the
// io_context.
#include "node_json.hpp"
#include "node_line_reader.hpp"
#include "node_run.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace neolith::cli {

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

enum class jsonl_op { spawn_session, get_session, terminate_session, restore_session, get_sessions, get_health, get_node_info };

constexpr std::array<std::pair<std::string_view, jsonl_op>, 7> op_names{{
    {"spawn_session", jsonl_op::spawn_session},
    {"get_session", jsonl_op::get_session},
    {"terminate_session", jsonl_op::terminate_session},
    {"restore_session", jsonl_op::restore_session},
    {"get_sessions", jsonl_op::get_sessions},
    {"get_health", jsonl_op::get_health},
    {"get_node_info", jsonl_op::get_node_info},
}};

/// The longest deadlineMs accepted: a year.
constexpr std::int64_t max_deadline_ms = 365LL * 24 * 3600 * 1000;

/// One request line, checked.
struct jsonl_request {
  json::value id;
  jsonl_op op = jsonl_op::get_health;
  daemon_node::deadline deadline;
  session_spawn_request spawn;
  std::string session_id;
  serialized_session serialized;
};

/// A request line that cannot run: its readable id (else null) and why.
struct bad_request {
  json::value id;
  std::string message;
};

/// An integer held by a JSON number (an integral double too), if any.
std::optional<std::int64_t> integer_of(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (d >= -9.0e15 && d <= 9.0e15 && d == static_cast<double>(static_cast<std::int64_t>(d)))
      return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::string known_ops() {
  std::string s;
  for (const auto& [name, op] : op_names) {
    if (!s.empty()) s += ", ";
    s += name;
  }
  return s;
}

/// Checks one request line.
std::variant<jsonl_request, bad_request> parse_request(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed) return bad_request{nullptr, parsed.error().message};
  const json::value& v = parsed.value();
  if (!v.is_object()) return bad_request{nullptr, "a request must be a JSON object"};
  const json::object& o = v.get_object();

  jsonl_request req;
  const json::value* id = o.if_contains("id");
  if (!id) return bad_request{nullptr, "missing \"id\""};
  if (!id->is_string() && !id->is_number()) return bad_request{nullptr, "\"id\" must be a string or a number"};
  req.id = *id;

  const auto fail = [&req](std::string message) { return bad_request{req.id, std::move(message)}; };
  const json::value* op = o.if_contains("op");
  if (!op) return fail("missing \"op\"");
  if (!op->is_string()) return fail("\"op\" must be a string");
  const std::string_view op_name = op->get_string();
  const auto* entry = std::find_if(op_names.begin(), op_names.end(), [&](const auto& e) { return e.first == op_name; });
  if (entry == op_names.end()) return fail("unknown op '" + std::string(op_name) + "' (" + known_ops() + ")");
  req.op = entry->second;

  if (const json::value* d = o.if_contains("deadlineMs")) {
    const auto ms = integer_of(*d);
    if (!ms || *ms < 1 || *ms > max_deadline_ms)
      return fail("\"deadlineMs\" must be an integer from 1 to " + std::to_string(max_deadline_ms));
    req.deadline = milliseconds(*ms);
  }

  switch (req.op) {
    case jsonl_op::spawn_session: {
      const json::value* r = o.if_contains("request");
      if (!r) return fail("spawn_session: missing \"request\" (a SessionSpawnRequest)");
      auto spawn = from_json<session_spawn_request>(*r);
      if (!spawn) return fail("spawn_session: \"request\" is not a SessionSpawnRequest: " + spawn.error().message);
      req.spawn = std::move(spawn).value();
      break;
    }
    case jsonl_op::get_session:
    case jsonl_op::terminate_session: {
      const json::value* s = o.if_contains("sessionId");
      if (!s) return fail(std::string(op_name) + ": missing \"sessionId\"");
      if (!s->is_string()) return fail(std::string(op_name) + ": \"sessionId\" must be a string");
      req.session_id = std::string(s->get_string());
      break;
    }
    case jsonl_op::restore_session: {
      const json::value* s = o.if_contains("serializedSession");
      if (!s) return fail("restore_session: missing \"serializedSession\" (a SerializedSession)");
      auto ser = from_json<serialized_session>(*s);
      if (!ser) return fail("restore_session: \"serializedSession\" is not a SerializedSession: " + ser.error().message);
      req.serialized = std::move(ser).value();
      break;
    }
    default: break;
  }
  return req;
}

class jsonl_driver {
 public:
  explicit jsonl_driver(node_invocation& inv)
      : work_(asio::make_work_guard(ioc_)),
        reader_(0, inv.max_line_bytes, inv.max_inflight, reader_handlers()),
        max_line_bytes_(inv.max_line_bytes) {
    node_.emplace(ioc_.get_executor(), inv.url, inv.endpoint, inv.capabilities, inv.options);
  }

  int run() {
    auto listener = [this](const node_event& e) { on_event(e); };
    node_->add_listener(listener);
    asio::co_spawn(ioc_, start_connection(), asio::detached);
    ioc_.run();
    reader_.stop();
    // The node's destructor finishes on its strand: let it.
    node_.reset();
    ioc_.restart();
    ioc_.run();
    if (input_error_) print_node_error(*input_error_);
    if (output_failed_) print_node_error("cannot write to stdout");
    return input_error_ || output_failed_ ? 1 : 0;
  }

 private:
  // ----- Input (posted by the reader's thread) -------------------------------------------

  line_reader::handlers reader_handlers() {
    line_reader::handlers h;
    h.line = [this](std::string line, std::uint64_t number) {
      auto deliver = [this, l = std::move(line), number]() mutable { on_line(std::move(l), number); };
      asio::post(ioc_, std::move(deliver));
    };
    h.too_long = [this](std::uint64_t number) {
      auto deliver = [this, number] { on_too_long(number); };
      asio::post(ioc_, deliver);
    };
    h.end = [this](std::optional<std::string> error) {
      auto deliver = [this, e = std::move(error)]() mutable { on_end(std::move(e)); };
      asio::post(ioc_, std::move(deliver));
    };
    return h;
  }

  void on_line(std::string text, std::uint64_t number) {
    if (output_failed_ || text.find_first_not_of(" \t\r") == std::string::npos) {
      // Blank lines are skipped.
      reader_.release();
      return;
    }
    auto parsed = parse_request(text);
    if (auto* bad = std::get_if<bad_request>(&parsed)) {
      write_result(bad->id, error_info(error::invalid_request, "line " + std::to_string(number) + ": " + bad->message));
      reader_.release();
      return;
    }
    ++inflight_;
    asio::co_spawn(ioc_, execute(std::move(std::get<jsonl_request>(parsed))), asio::detached);
  }

  void on_too_long(std::uint64_t number) {
    write_result(nullptr, error_info(error::invalid_request, "line " + std::to_string(number) + " is longer than " +
                                                                 std::to_string(max_line_bytes_) + " bytes"));
    reader_.release();
  }

  void on_end(std::optional<std::string> error) {
    if (error) input_error_ = std::move(error);
    input_done_ = true;
    maybe_finish();
  }

  // ----- Requests ----------------------------------------------------------------------

  asio::awaitable<result<json::value>> perform(jsonl_request& req) {
    daemon_node& node = *node_;
    switch (req.op) {
      case jsonl_op::spawn_session: {
        auto r = co_await node.spawn_session(std::move(req.spawn), req.deadline);
        if (!r) co_return r.error();
        co_return json::value_from(r.value());
      }
      case jsonl_op::get_session: {
        auto r = co_await node.get_session(std::move(req.session_id), req.deadline);
        if (!r) co_return r.error();
        if (!r.value()) co_return json::value(nullptr);
        co_return json::value_from(*r.value());
      }
      case jsonl_op::terminate_session: {
        auto r = co_await node.terminate_session(std::move(req.session_id), req.deadline);
        if (!r) co_return r.error();
        co_return json::value(r.value());
      }
      case jsonl_op::restore_session: {
        auto r = co_await node.restore_session(std::move(req.serialized), req.deadline);
        if (!r) co_return r.error();
        co_return json::value(r.value());
      }
      case jsonl_op::get_sessions: {
        auto r = co_await node.get_sessions(req.deadline);
        if (!r) co_return r.error();
        co_return json::value_from(r.value());
      }
      case jsonl_op::get_health: {
        auto r = co_await node.get_health(req.deadline);
        if (!r) co_return r.error();
        co_return json::value_from(r.value());
      }
      case jsonl_op::get_node_info: {
        auto r = co_await node.get_node_info(req.deadline);
        if (!r) co_return r.error();
        co_return json::value(node_info_json(r.value()));
      }
    }
    co_return error_info(error::invalid_request, "unknown op");
  }

  asio::awaitable<void> execute(jsonl_request req) {
    std::optional<result<json::value>> r;
    try {
      r.emplace(co_await perform(req));
    } catch (const std::exception& e) {
      r.emplace(error_info(error::internal, e.what()));
    }
    if (*r) {
      json::object line;
      line.emplace("id", std::move(req.id));
      line.emplace("ok", true);
      line.emplace("value", std::move(r->value()));
      write(line);
    } else {
      write_result(std::move(req.id), r->error());
    }
    --inflight_;
    reader_.release();
    maybe_finish();
  }

  // ----- Connection and events -----------------------------------------------------------

  asio::awaitable<void> start_connection() {
    // The outcome of the first attempt shows in the events; the node goes on reconnecting in
    // the background when it failed.
    co_await node_->connect();
    start_reader();  // already started by the first `connecting` event, unless none came
  }

  /// Runs on the node's strand (this thread).
  void on_event(const node_event& e) {
    write(event_json(e));
    // Requests are read once the node is connecting: never while it is still `disconnected`
    // (where they would fail at once with not_connected).
    start_reader();
  }

  void start_reader() {
    if (reader_started_) return;
    reader_started_ = true;
    reader_.start();
  }

  void maybe_finish() {
    if (!input_done_ || inflight_ != 0 || finishing_) return;
    finishing_ = true;
    asio::co_spawn(ioc_, finish(), asio::detached);
  }

  asio::awaitable<void> finish() {
    co_await node_->disconnect();
    work_.reset();
  }

  // ----- Output --------------------------------------------------------------------------

  void write_result(json::value id, const error_info& e) {
    json::object line;
    line.emplace("id", std::move(id));
    line.emplace("ok", false);
    line.emplace("error", error_json(e));
    write(line);
  }

  void write(const json::object& o) {
    if (output_failed_) return;
    std::string text = json_text(o);
    text += '\n';
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
      // Nobody reads the results any more: stop reading requests, finish what runs.
      output_failed_ = true;
      if (!input_done_) {
        reader_.stop();
        input_done_ = true;
        maybe_finish();
      }
    }
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<daemon_node> node_;
  line_reader reader_;
  std::size_t max_line_bytes_;
  std::size_t inflight_ = 0;
  bool reader_started_ = false;
  bool input_done_ = false;
  bool finishing_ = false;
  bool output_failed_ = false;
  std::optional<std::string> input_error_;
};

}  // namespace

int run_node_jsonl(node_invocation& inv) {
  jsonl_driver driver(inv);
  return driver.run();
}

}  // namespace neolith::cli
