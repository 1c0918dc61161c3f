// neolith::call_deadline: when a node operation must have completed, given as a duration
// (counted from the moment the operation starts) or as an absolute steady_clock time point
// (one budget passed through several calls).
#ifndef NEOLITH_CLIENT_DEADLINE_HPP
#define NEOLITH_CLIENT_DEADLINE_HPP

#include <chrono>
#include <optional>

namespace neolith {

class call_deadline {
 public:
  using clock = std::chrono::steady_clock;

  /// No deadline given: the operation uses its option's default.
  constexpr call_deadline() noexcept = default;
  constexpr call_deadline(std::nullopt_t) noexcept {}  // NOLINT: implicit by design
  /// Relative: `d` from the moment the operation starts (a negative one is already past).
  template <class Rep, class Period>
  constexpr call_deadline(std::chrono::duration<Rep, Period> d) noexcept  // NOLINT: implicit by design
      : kind_(kind::relative), relative_(saturate(d)) {}
  /// Absolute: the operation fails with `error::timeout` at `t` (at once if `t` has passed).
  constexpr call_deadline(clock::time_point t) noexcept : kind_(kind::absolute), absolute_(t) {}  // NOLINT
  /// Relative when set (the type the deadlines of earlier versions had).
  constexpr call_deadline(std::optional<std::chrono::milliseconds> d) noexcept  // NOLINT: implicit by design
      : call_deadline(d ? call_deadline(*d) : call_deadline()) {}

  constexpr bool has_value() const noexcept { return kind_ != kind::none; }
  constexpr bool is_absolute() const noexcept { return kind_ == kind::absolute; }

  /// The time point this deadline stands for, for an operation starting at `now` whose
  /// default is `fallback` (saturating: a huge duration gives the clock's maximum).
  constexpr clock::time_point resolve(clock::duration fallback, clock::time_point now) const noexcept {
    switch (kind_) {
      case kind::absolute: return absolute_;
      case kind::relative: return add(now, relative_);
      case kind::none: break;
    }
    return add(now, fallback);
  }
  clock::time_point resolve(clock::duration fallback) const noexcept { return resolve(fallback, clock::now()); }

 private:
  enum class kind : unsigned char { none, relative, absolute };
  template <class Rep, class Period>
  static constexpr clock::duration saturate(std::chrono::duration<Rep, Period> d) noexcept {
    using source = std::chrono::duration<Rep, Period>;
    if (d >= std::chrono::duration_cast<source>(clock::duration::max())) return clock::duration::max();
    if (d <= std::chrono::duration_cast<source>(clock::duration::min())) return clock::duration::min();
    return std::chrono::ceil<clock::duration>(d);
  }
  static constexpr clock::time_point add(clock::time_point now, clock::duration d) noexcept {
    if (d > clock::duration::zero() && now > clock::time_point::max() - d) return clock::time_point::max();
    if (d < clock::duration::zero() && now < clock::time_point::min() - d) return clock::time_point::min();
    return now + d;
  }

  kind kind_ = kind::none;
  clock::duration relative_{};
  clock::time_point absolute_{};
};

}  // namespace neolith

#endif  // NEOLITH_CLIENT_DEADLINE_HPP
