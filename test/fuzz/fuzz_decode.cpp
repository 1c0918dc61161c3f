// libFuzzer target for the protocol decoder: any input must decode or fail cleanly (no crash,
// no leak, no UB), whatever is accepted must survive encode -> decode unchanged, and the
// one-pass path (detail::fast_decode) must agree with the general path on every input.
#include <neolith/protocol/messages.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_decode: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One decoder for the whole run, as a connection uses it: state must not leak between messages.
  static neolith::decoder d;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto first = d.decode(text);
  {
    static neolith::decoder general([] {
      neolith::decode_options o;
      o.fast_path = false;
      return o;
    }());
    auto g = general.decode(text);
    if (first.has_value() != g.has_value()) fail("the fast and general paths disagree on success", text);
    if (first && !(first.value() == g.value())) fail("the fast and general paths give different messages", text);
    if (!first && (first.error().code != g.error().code || first.error().what() != g.error().what()))
      fail("the fast and general paths give different errors", text);
    if (d.request_id() != general.request_id() || d.request_type() != general.request_type())
      fail("the fast and general paths give different envelopes", text);
  }
  if (!first) {
    // Failures always carry a code of ours and a non-empty text.
    if (first.error().code.category() != neolith::error_category()) fail("foreign error code", first.error().what());
    if (first.error().what().empty()) fail("empty error text", text);
    auto answer = neolith::make_error_answer(first.error(), d);
    const auto encoded_answer = neolith::encode(answer);
    auto answer_back = neolith::decode(encoded_answer);
    if (!answer_back) fail("error answer does not decode", answer_back.error().what());
    if (!(answer_back.value() == neolith::message(answer))) fail("error answer changed", encoded_answer);
    return 0;
  }
  // The envelope the decoder reports matches the message.
  if (d.request_id() != neolith::request_id_of(first.value())) fail("request_id mismatch", text);
  if (d.request_type() != std::string(neolith::to_string(neolith::type_of(first.value())))) fail("request_type mismatch", text);

  const std::string encoded = neolith::encode(first.value());
  auto second = d.decode(encoded);
  if (!second) fail("re-encoded message does not decode", second.error().what() + " in " + encoded);
  if (!(second.value() == first.value())) fail("re-encoded message differs", encoded);
  // Encoding is deterministic.
  if (neolith::encode(second.value()) != encoded) fail("encoding is not stable", encoded);
  return 0;
}
