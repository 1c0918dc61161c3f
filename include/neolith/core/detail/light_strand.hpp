// A strand, type-erased as an any_io_executor, that costs no heap allocation per operation.
//
// `asio::make_strand(any_io_executor)` gives a strand<any_io_executor>: too large for the small
// buffer of an any_io_executor, so every copy made with a property (`prefer(outstanding_work.
// tracked)`, which each I/O operation and each completion does) allocates, and Asio 1.81's
// any_executor allocates again for every query answered by value (`blocking`, asked by the
// strand on each post). Over an io_context's own executor type the strand is three words: it
// fits the small buffer, and its inner executor is queried without type erasure.
#ifndef NEOLITH_CORE_DETAIL_LIGHT_STRAND_HPP
#define NEOLITH_CORE_DETAIL_LIGHT_STRAND_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/strand.hpp>

#include <type_traits>
#include <utility>

namespace neolith::detail {

/// The io_context's executor types a light strand is made over.
using plain_io_executor = boost::asio::io_context::executor_type;
using tracked_io_executor = std::decay_t<decltype(boost::asio::require(
    std::declval<plain_io_executor>(), boost::asio::execution::outstanding_work.tracked))>;

/// A new strand over `ex`: over its concrete type when `ex` is an io_context executor (with or
/// without outstanding work tracking), else over `ex` itself.
inline boost::asio::any_io_executor make_light_strand(const boost::asio::any_io_executor& ex) {
  namespace asio = boost::asio;
  using plain = plain_io_executor;
  using tracked = tracked_io_executor;
  if (const auto* e = ex.target<plain>()) return asio::make_strand(*e);
  if (const auto* e = ex.target<tracked>()) return asio::make_strand(*e);
  return asio::make_strand(ex);
}

/// True when the caller runs inside `s`, a strand made by make_light_strand (false for any other
/// executor).
inline bool running_in_light_strand(const boost::asio::any_io_executor& s) noexcept {
  namespace asio = boost::asio;
  using plain = plain_io_executor;
  using tracked = tracked_io_executor;
  if (const auto* e = s.target<asio::strand<plain>>()) return e->running_in_this_thread();
  if (const auto* e = s.target<asio::strand<tracked>>()) return e->running_in_this_thread();
  if (const auto* e = s.target<asio::strand<asio::any_io_executor>>()) return e->running_in_this_thread();
  return false;
}

}  // namespace neolith::detail

#endif  // NEOLITH_CORE_DETAIL_LIGHT_STRAND_HPP
