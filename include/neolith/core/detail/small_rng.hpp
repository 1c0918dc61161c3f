// A small, fast pseudo-random generator (SplitMix64, Steele/Lea/Flood 2014): 8 bytes of state
// where std::mt19937_64 keeps 2.5 KiB, which mattered for an idle daemon_node (it draws the
// requestId prefix and the backoff jitter: neither needs cryptographic strength).
#ifndef NEOLITH_CORE_DETAIL_SMALL_RNG_HPP
#define NEOLITH_CORE_DETAIL_SMALL_RNG_HPP

#include <cstdint>
#include <limits>
#include <random>

namespace neolith::detail {

/// A UniformRandomBitGenerator (usable with <random> distributions).
class small_rng {
 public:
  using result_type = std::uint64_t;

  explicit small_rng(std::uint64_t seed) noexcept : state_(seed) {}

  /// Seeded from std::random_device.
  static small_rng from_random_device() {
    std::random_device rd;
    const std::uint64_t seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    return small_rng(seed);
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  result_type operator()() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

}  // namespace neolith::detail

#endif  // NEOLITH_CORE_DETAIL_SMALL_RNG_HPP
