#include <neolith/daemon/detail/daemon_idempotency.hpp>

namespace neolith::detail {

std::string idempotency_window::key_of(std::string_view type, std::string_view request_id) {
  std::string k;
  k.reserve(type.size() + 1 + request_id.size());
  k.append(type).push_back('\0');
  k.append(request_id);
  return k;
}

const std::string* idempotency_window::find(std::string_view type, std::string_view request_id,
                                            clock::time_point now) {
  evict(now);
  auto it = entries_.find(key_of(type, request_id));
  if (it == entries_.end()) return nullptr;
  return &it->second.answer;
}

void idempotency_window::erase(std::unordered_map<std::string, entry>::iterator it) {
  bytes_ -= it->first.size() + it->second.answer.size();
  entries_.erase(it);
}

void idempotency_window::record(std::string_view type, std::string_view request_id, std::string answer,
                                clock::time_point now) {
  std::string key = key_of(type, request_id);
  if (auto it = entries_.find(key); it != entries_.end()) erase(it);
  const std::uint64_t seq = next_seq_++;
  bytes_ += key.size() + answer.size();
  order_.push_back(order_ref{key, seq});
  entries_.emplace(std::move(key), entry{std::move(answer), now, seq});
  evict(now);
}

void idempotency_window::evict(clock::time_point now) {
  while (!order_.empty()) {
    const order_ref& r = order_.front();
    auto it = entries_.find(r.key);
    if (it == entries_.end() || it->second.seq != r.seq) {
      order_.pop_front();  // stale: replaced or already gone
      continue;
    }
    if (entries_.size() > max_entries_ || bytes_ > max_bytes_ || now - it->second.when >= window_) {
      erase(it);
      order_.pop_front();
      continue;
    }
    break;
  }
}

}  // namespace neolith::detail
