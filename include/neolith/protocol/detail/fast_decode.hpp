// fast_decode: the decoder's one-pass path for the common messages.
//
// The general decoder parses a text into a Boost.JSON tree, then reads the typed fields out of
// it (a lookup per field, strings copied twice). On the client that was 40% of the instructions
// of a request. fast_decode reads the text in one pass with a JSON reader of its own (strict
// RFC 8259, UTF-8 checked, escapes decoded) straight into the message, for the messages of the
// request path and their answers (get_health, get_session, health_response, session_state,
// ...), and declines everything else.
//
// It is an accelerator, never a second definition of the protocol: it accepts a text only when
// the general decoder would return exactly the same message, and declines (returns false) at
// the first thing outside its narrow shape: `type` not the first key, a type it does not
// handle, an unknown or repeated key, a null, a number that is not plainly of the field's
// kind (nor a plain int64 or decimal form: -0, integers past 18 digits), a free-form object
// that is not empty, a missing required field, an invalid enum or date, a lone surrogate,
// invalid JSON or UTF-8. The decoder then runs the general path on the text, which gives the
// result or the precise error. `test_fast_decode` and the decode fuzzer compare both paths.
#ifndef NEOLITH_PROTOCOL_DETAIL_FAST_DECODE_HPP
#define NEOLITH_PROTOCOL_DETAIL_FAST_DECODE_HPP

#include <neolith/protocol/messages.hpp>

#include <string_view>

namespace neolith::detail {

/// Decodes `text` into `out` (the message's own `requestId` included) when it is one of the
/// messages handled here, in the shape described above; otherwise returns false, and `out` is
/// unspecified.
bool fast_decode(std::string_view text, message& out);

}  // namespace neolith::detail

#endif  // NEOLITH_PROTOCOL_DETAIL_FAST_DECODE_HPP
