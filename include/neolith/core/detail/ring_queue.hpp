// A FIFO (with push_front) that holds no memory while it has never been used: a growable
// boost::circular_buffer. std::deque allocates a 512-byte block and its map as soon as it is
// constructed, which cost every idle daemon_node and daemon connection ~600 bytes per queue.
#ifndef NEOLITH_CORE_DETAIL_RING_QUEUE_HPP
#define NEOLITH_CORE_DETAIL_RING_QUEUE_HPP

#include <boost/circular_buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace neolith::detail {

template <class T>
class ring_queue {
 public:
  using value_type = T;
  using iterator = typename boost::circular_buffer<T>::iterator;
  using const_iterator = typename boost::circular_buffer<T>::const_iterator;

  bool empty() const noexcept { return buf_.empty(); }
  std::size_t size() const noexcept { return buf_.size(); }
  /// Elements it can hold before growing (0 until first used).
  std::size_t capacity() const noexcept { return buf_.capacity(); }

  T& front() { return buf_.front(); }
  const T& front() const { return buf_.front(); }
  T& back() { return buf_.back(); }

  void push_back(T v) {
    grow();
    buf_.push_back(std::move(v));
  }
  void push_front(T v) {
    grow();
    buf_.push_front(std::move(v));
  }
  void pop_front() { buf_.pop_front(); }
  void clear() noexcept { buf_.clear(); }

  /// Removes the elements for which `pred` holds, keeping the order of the others; returns
  /// how many were removed.
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    const auto first = std::remove_if(buf_.begin(), buf_.end(), pred);
    const auto n = static_cast<std::size_t>(std::distance(first, buf_.end()));
    buf_.erase(first, buf_.end());
    return n;
  }

  iterator begin() noexcept { return buf_.begin(); }
  iterator end() noexcept { return buf_.end(); }
  const_iterator begin() const noexcept { return buf_.begin(); }
  const_iterator end() const noexcept { return buf_.end(); }

 private:
  void grow() {
    if (buf_.full()) buf_.set_capacity(std::max<std::size_t>(4, buf_.capacity() * 2));
  }

  boost::circular_buffer<T> buf_;
};

}  // namespace neolith::detail

#endif  // NEOLITH_CORE_DETAIL_RING_QUEUE_HPP
