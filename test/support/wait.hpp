// Bounded waiting for a condition from a test thread.
#pragma once

#include <chrono>
#include <thread>
#include <utility>

namespace neolith::test {

// Polls `predicate` every millisecond until it returns true or `timeout` has elapsed.
// Returns whether the predicate held. The loop is bounded by `timeout` (plus one poll).
template <class Predicate>
[[nodiscard]] bool wait_until(Predicate&& predicate, std::chrono::steady_clock::duration timeout)
{
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (std::forward<Predicate>(predicate)())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

} // namespace neolith::test
