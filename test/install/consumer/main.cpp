// A consumer of the installed package: encodes and decodes protocol messages, inspects error
// codes. Exits non-zero, naming each failed check, if anything is off.
#include <neolith/neolith.hpp>

#include <boost/system/system_error.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <variant>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what);
    ++failures;
  }
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

}  // namespace

int main() {
  using namespace neolith;

  // Encode a request the way the TypeScript client writes it.
  msg::get_session request;
  request.request_id = "r-1";
  request.session_id = "s-42";
  const std::string text = encode(message{request});
  check(contains(text, R"("type":"get_session")"), "encode writes the type");
  check(contains(text, R"("sessionId":"s-42")"), "encode writes sessionId");
  check(contains(text, R"("requestId":"r-1")"), "encode writes requestId");

  // Decode it back.
  const result<message> back = decode(text);
  check(back.has_value(), "decode accepts what encode wrote");
  if (back.has_value()) {
    check(type_of(back.value()) == message_type::get_session, "decoded type is get_session");
    const auto* decoded = std::get_if<msg::get_session>(&back.value());
    check(decoded != nullptr && *decoded == request, "round trip keeps every field");
  }

  // Decoding errors carry neolith's error codes.
  decoder d;
  const result<message> not_json = d.decode("{not json");
  check(!not_json.has_value() && not_json.error() == error::invalid_json, "bad JSON gives error::invalid_json");
  const result<message> unknown = d.decode(R"({"type":"no_such_message","requestId":"r-2"})");
  check(!unknown.has_value() && unknown.error() == error::unknown_type, "an unknown type gives error::unknown_type");
  check(d.request_id() == std::string("r-2"), "the decoder keeps the requestId of a failed message");
  if (!unknown.has_value()) {
    const msg::error answer = make_error_answer(unknown.error(), d);
    check(answer.code == "unknown_type", "the error answer has the wire code unknown_type");
    check(answer.request_id == std::string("r-2"), "the error answer carries the requestId");
  }

  // The error category and the stable names.
  const error_code ec = error::timeout;
  check(ec.category().name() == std::string_view("neolith"), "the category is named neolith");
  check(ec != error::queue_full, "distinct errors compare unequal");
  check(to_string(error::queue_full) == "queue_full", "to_string(error::queue_full)");
  check(error_from_string("queue_full") == error::queue_full, "error_from_string(\"queue_full\")");
  check(wire_code(error::nesting_too_deep) == "invalid_json", "wire_code(nesting_too_deep)");
  check(error_from_wire_code("rate_limited") == error::rate_limited, "error_from_wire_code(\"rate_limited\")");
  check(error_from_wire_code("something_new") == error::remote_error, "an unknown wire code is remote_error");

  // result<T>::value() on a failure throws system_error with the code and message.
  try {
    const result<int> failed = error_info(error::timeout, "deadline passed");
    (void)failed.value();
    check(false, "value() of a failed result throws");
  } catch (const boost::system::system_error& e) {
    check(e.code() == error::timeout, "the exception carries error::timeout");
    check(contains(e.what(), "deadline passed"), "the exception carries the message");
  }

  // The header matches the package.
  check(std::string_view(version_string) == NEOLITH_EXPECTED_VERSION, "version_string matches the package version");

  if (failures != 0) {
    std::fprintf(stderr, "consumer: %d check(s) failed\n", failures);
    return 1;
  }
  std::printf("consumer: all checks passed (neolith %s)\n", version_string);
  return 0;
}
