// Asking several nodes at once: `first_success` (the first success wins, the others are
// cancelled) and `all_of` (every answer, in the order of the nodes). Both run the operations
// concurrently on the calling coroutine's executor and return once every operation has
// completed (a cancelled one completes at once), so nothing they started outlives them.
//
//   auto r = co_await neolith::first_success(nodes, [&](neolith::daemon_node& n) {
//     return n.spawn_session(request, 5s);
//   });
//   if (r) route(r->index, r->value);   // nodes[r->index] spawned it
#ifndef NEOLITH_CLIENT_FAN_OUT_HPP
#define NEOLITH_CLIENT_FAN_OUT_HPP

#include <neolith/client/daemon_node.hpp>
#include <neolith/core/error.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace neolith {

/// The winner of `first_success`: its position in the range, and its value (the first success
/// to complete).
template <class T>
struct first_answer {
  std::size_t index = 0;
  T value;
};

namespace detail {

template <class Op, class Node>
using fan_out_value_t = typename std::invoke_result_t<Op&, Node&>::value_type::value_type;

/// The cancellation condition of first_success: stop the others at the first success.
struct stop_at_first_success {
  template <class T>
  boost::asio::cancellation_type_t operator()(const std::exception_ptr& e, const std::optional<result<T>>& r) const {
    return (!e && r && r->has_value()) ? boost::asio::cancellation_type::terminal : boost::asio::cancellation_type::none;
  }
};

template <class T>
struct fan_out_results {
  std::vector<std::size_t> order;  ///< the indexes, in the order the operations completed
  std::vector<result<T>> results;  ///< in the order of the nodes
};

/// Runs `op(node)` for every node of `nodes` at once under `condition`.
template <class Range, class Op, class Condition>
auto run_all(Range& nodes, Op& op, Condition condition)
    -> boost::asio::awaitable<fan_out_results<fan_out_value_t<Op, decltype(*std::begin(nodes))>>> {
  using T = fan_out_value_t<Op, decltype(*std::begin(nodes))>;
  const auto ex = co_await boost::asio::this_coro::executor;
  using spawned = decltype(boost::asio::co_spawn(ex, keep_result<T>(op(*std::begin(nodes))), boost::asio::deferred));
  std::vector<spawned> ops;
  for (auto& n : nodes) ops.push_back(boost::asio::co_spawn(ex, keep_result<T>(op(n)), boost::asio::deferred));
  fan_out_results<T> out;
  if (ops.empty()) co_return out;
  auto [order, exceptions, results] = co_await boost::asio::experimental::make_parallel_group(std::move(ops))
                                          .async_wait(condition, boost::asio::use_awaitable);
  out.order = std::move(order);
  out.results.reserve(results.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (exceptions[i]) std::rethrow_exception(exceptions[i]);  // std::bad_alloc only
    out.results.push_back(results[i] ? std::move(*results[i]) : result<T>(error_info(error::internal, "no result")));
  }
  co_return out;
}

/// The error of first_success when no operation succeeded: the first failure's code, every
/// failure in the message; `sent` is `may_have_executed` when any may have run, `never_sent`
/// when none was sent.
template <class T>
error_info every_one_failed(const std::vector<result<T>>& results) {
  error_info e(results.front().error().code);
  e.message = "every one of the " + std::to_string(results.size()) + " operations failed:";
  bool any_may_have_run = false, all_unsent = true;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& why = results[i].error();
    e.message += " [" + std::to_string(i) + "] " + why.what() + ";";
    any_may_have_run = any_may_have_run || why.sent == send_state::may_have_executed;
    all_unsent = all_unsent && why.sent == send_state::never_sent;
  }
  e.message.pop_back();
  e.sent = any_may_have_run ? send_state::may_have_executed : all_unsent ? send_state::never_sent : send_state::unknown;
  return e;
}

}  // namespace detail

/// Runs `op(node)` (an operation returning `awaitable<result<T>>`, e.g. a lambda calling
/// `node.spawn_session(...)`) for every node of `nodes` at once. The first to succeed wins: the
/// others are cancelled (their requests complete with `cancelled`; a request already written
/// may still run on its daemon). Completes when all have completed, with the winner's index
/// and value, or, when none succeeded, an error (see below). An empty range fails with
/// `error::invalid_argument`. Failure: the code of the first node's failure, and a message
/// listing every node's; `sent` is `never_sent` only when no node was sent the request.
template <class Range, class Op>
auto first_success(Range& nodes, Op op)
    -> boost::asio::awaitable<result<first_answer<detail::fan_out_value_t<Op, decltype(*std::begin(nodes))>>>> {
  using T = detail::fan_out_value_t<Op, decltype(*std::begin(nodes))>;
  if (std::begin(nodes) == std::end(nodes))
    co_return error_info(error::invalid_argument, "first_success was given no nodes");
  auto all = co_await detail::run_all(nodes, op, detail::stop_at_first_success{});
  for (const std::size_t i : all.order) {
    if (all.results[i]) co_return first_answer<T>{i, std::move(all.results[i]).value()};
  }
  co_return detail::every_one_failed(all.results);
}

/// Runs `op(node)` for every node of `nodes` at once and waits for all: every result, in the
/// order of the nodes (a failure does not cancel the others).
template <class Range, class Op>
auto all_of(Range& nodes, Op op)
    -> boost::asio::awaitable<std::vector<result<detail::fan_out_value_t<Op, decltype(*std::begin(nodes))>>>> {
  auto all = co_await detail::run_all(nodes, op, boost::asio::experimental::wait_for_all());
  co_return std::move(all.results);
}

}  // namespace neolith

#endif  // NEOLITH_CLIENT_FAN_OUT_HPP
