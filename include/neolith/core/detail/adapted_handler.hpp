// adapted_handler: a completion handler that runs an adapter around the caller's handler
// (keeping something alive, marking a state, converting the arguments) while it keeps the
// caller's associations: executor, immediate executor, allocator and cancellation slot all
// come from the wrapped handler, so the wrapper is invisible to cancellation (`||`, parallel
// groups) and to where and with what memory the completion runs.
#ifndef NEOLITH_CORE_DETAIL_ADAPTED_HANDLER_HPP
#define NEOLITH_CORE_DETAIL_ADAPTED_HANDLER_HPP

#include <boost/asio/associator.hpp>

#include <type_traits>
#include <utility>

namespace neolith::detail {

/// Called with arguments `args...`, calls `adapt(std::move(handler), args...)`: the adapter
/// decides what the caller's handler receives, and must call it exactly once.
template <class Handler, class Adapter>
struct adapted_handler {
  Handler handler;
  Adapter adapt;

  template <class... Args>
  void operator()(Args&&... args) {
    std::move(adapt)(std::move(handler), std::forward<Args>(args)...);
  }
};

template <class Handler, class Adapter>
adapted_handler<std::decay_t<Handler>, std::decay_t<Adapter>> adapt_handler(Handler&& handler, Adapter&& adapt) {
  return {std::forward<Handler>(handler), std::forward<Adapter>(adapt)};
}

}  // namespace neolith::detail

namespace boost::asio {

template <template <class, class> class Associator, class Handler, class Adapter, class DefaultCandidate>
struct associator<Associator, neolith::detail::adapted_handler<Handler, Adapter>, DefaultCandidate> {
  using wrapper = neolith::detail::adapted_handler<Handler, Adapter>;
  using type = typename Associator<Handler, DefaultCandidate>::type;
  static type get(const wrapper& w) noexcept { return Associator<Handler, DefaultCandidate>::get(w.handler); }
  static auto get(const wrapper& w, const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(w.handler, c)) {
    return Associator<Handler, DefaultCandidate>::get(w.handler, c);
  }
};

}  // namespace boost::asio

#endif  // NEOLITH_CORE_DETAIL_ADAPTED_HANDLER_HPP
