// The typed side of a request: which types are messages of the protocol, and the answer of
// the expected type out of a `result<message>`.
#ifndef NEOLITH_CLIENT_DETAIL_TYPED_ANSWER_HPP
#define NEOLITH_CLIENT_DETAIL_TYPED_ANSWER_HPP

#include <neolith/core/error.hpp>
#include <neolith/protocol/messages.hpp>

#include <type_traits>
#include <utility>
#include <variant>

namespace neolith::detail {

template <class T, class Variant>
struct is_alternative_of : std::false_type {};
template <class T, class... Ts>
struct is_alternative_of<T, std::variant<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};

/// True for the message types of the protocol (the alternatives of `message`).
template <class T>
inline constexpr bool is_message_alternative_v = is_alternative_of<T, message>::value;

/// The answer of type `Answer` in `r`; `r`'s error as it is; any other message fails with
/// `error::unexpected_response`.
template <class Answer>
result<Answer> answer_as(result<message>&& r) {
  static_assert(is_message_alternative_v<Answer>);
  if (!r) return std::move(r).error();
  if (auto* a = std::get_if<Answer>(&r.value())) return std::move(*a);
  return error_info(error::unexpected_response,
                    "unexpected answer type '" + std::string(to_string(type_of(r.value()))) + "'");
}

}  // namespace neolith::detail

#endif  // NEOLITH_CLIENT_DETAIL_TYPED_ANSWER_HPP
