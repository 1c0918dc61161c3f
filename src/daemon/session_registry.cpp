#include <neolith/daemon/detail/session_journal.hpp>
#include <neolith/daemon/detail/session_registry.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <utility>

namespace neolith::detail {

namespace {

double ms_between(session_registry::clock::time_point a, session_registry::clock::time_point b) {
  if (b <= a) return 0;
  // Whole milliseconds: durations go on the wire as integers.
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
}

}  // namespace

session_registry::session_registry(session_registry_limits limits, std::shared_ptr<session_runner> runner)
    : limits_(std::move(limits)), runner_(std::move(runner)) {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  rng_.seed(seq);
}

bool session_registry::supports(session_type t) const noexcept {
  return std::any_of(limits_.types.begin(), limits_.types.end(),
                     [t](session_type have) { return same_kind(have, t); });
}

std::string session_registry::new_id() {
  // A random (version 4) UUID; unique on this node, checked against the table.
  for (;;) {
    std::array<unsigned char, 16> b{};
    for (std::size_t i = 0; i < b.size(); i += 8) {
      const std::uint64_t r = rng_();
      for (std::size_t j = 0; j < 8; ++j) b[i + j] = static_cast<unsigned char>(r >> (8 * j));
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                  b[15]);
    std::string id(text, 36);
    if (!sessions_.contains(id)) return id;
  }
}

session session_registry::snapshot_of(const entry& e, clock::time_point now) const {
  session s = e.s;
  if (!is_ended(s.status)) s.metrics.duration = e.base_duration + ms_between(e.run_started, now);
  return s;
}

result<void> session_registry::start_run_locked(entry& e, const boost::json::object* snapshot,
                                                std::string memory_profile) {
  e.run_id = next_run_id_++;
  e.run_started = clock::now();
  run_request r;
  r.run_id = e.run_id;
  r.session = &e.s;
  r.snapshot = snapshot;
  r.memory_profile = std::move(memory_profile);
  std::weak_ptr<session_registry> weak = weak_from_this();
  return runner_->start(r, [weak, id = e.s.id, run = e.run_id](run_outcome o) {
    if (auto self = weak.lock()) self->on_run_end(id, run, o);
  });
}

result<session> session_registry::spawn(const session_spawn_request& req) {
  std::lock_guard lock(mu_);
  if (closed_) return error_info(error::shutting_down, "the node is shutting down");
  if (!supports(req.type))
    return error_info(error::unsupported_session_type,
                      "session type '" + std::string(to_string(req.type)) + "' is not supported by this node");
  if (live_ >= limits_.max_live)
    return error_info(error::capacity_exceeded, "the node is at its maximum of " +
                                                    std::to_string(limits_.max_live) + " concurrent sessions");
  const auto now = clock::now();
  prune_locked(now);
  entry e;
  e.s.id = new_id();
  e.s.orchestrator_id = req.orchestrator_id;
  e.s.task = req.task;
  e.s.type = req.type;
  e.s.status = session_status::running;
  e.s.started_at = now_timestamp();
  auto started = start_run_locked(e, nullptr, req.memory_profile.value_or(std::string{}));
  if (!started) return error_info(error::internal, "the session could not be started: " + started.error().what());
  auto [it, inserted] = sessions_.emplace(e.s.id, std::move(e));
  (void)inserted;
  ++live_;
  journal_locked(it->second, now);
  return snapshot_of(it->second, now);
}

std::optional<session> session_registry::get(std::string_view id) {
  std::lock_guard lock(mu_);
  const auto now = clock::now();
  prune_locked(now);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return std::nullopt;
  return snapshot_of(it->second, now);
}

void session_registry::end_locked(entry& e, session_status st, clock::time_point now) {
  e.s.metrics.duration = e.base_duration + ms_between(e.run_started, now);
  e.s.status = st;
  e.s.ended_at = now_timestamp();
  e.ended = now;
  --live_;
  ++ended_count_;
  ended_.push_back(ended_ref{now, e.s.id, e.run_id});
}

bool session_registry::terminate(std::string_view id) {
  std::lock_guard lock(mu_);
  const auto now = clock::now();
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end() || is_ended(it->second.s.status)) return false;
  end_locked(it->second, session_status::terminated, now);
  runner_->terminate(it->second.run_id);
  journal_locked(it->second, now);
  prune_locked(now);
  return true;
}

result<bool> session_registry::restore(const serialized_session& ser) {
  const session& src = ser.session;
  std::lock_guard lock(mu_);
  if (closed_) return error_info(error::shutting_down, "the node is shutting down");
  if (src.id.empty()) return error_info(error::invalid_message, "serializedSession.session.id is empty");
  if (!supports(src.type))
    return error_info(error::unsupported_session_type,
                      "session type '" + std::string(to_string(src.type)) + "' is not supported by this node");
  auto it = sessions_.find(src.id);
  if (it != sessions_.end() && !is_ended(it->second.s.status)) return false;
  if (live_ >= limits_.max_live)
    return error_info(error::capacity_exceeded, "the node is at its maximum of " +
                                                    std::to_string(limits_.max_live) + " concurrent sessions");
  const auto now = clock::now();
  entry e;
  e.s = src;
  e.s.status = session_status::running;
  e.s.ended_at.reset();
  e.base_duration = std::isfinite(src.metrics.duration) && src.metrics.duration > 0 ? src.metrics.duration : 0;
  auto started = start_run_locked(e, &ser.memory_snapshot, std::string{});
  if (!started) return error_info(error::internal, "the session could not be started: " + started.error().what());
  if (it != sessions_.end()) {
    // Replaces an ended session of the same id; its ended_ ref becomes stale.
    --ended_count_;
    it->second = std::move(e);
  } else {
    it = sessions_.emplace(src.id, std::move(e)).first;
  }
  ++live_;
  journal_locked(it->second, now, &ser.memory_snapshot);
  prune_locked(now);
  return true;
}

std::vector<session> session_registry::list() {
  std::lock_guard lock(mu_);
  const auto now = clock::now();
  prune_locked(now);
  std::vector<session> out;
  out.reserve(sessions_.size());
  for (const auto& [id, e] : sessions_) out.push_back(snapshot_of(e, now));
  std::sort(out.begin(), out.end(), [](const session& a, const session& b) {
    return a.started_at != b.started_at ? a.started_at < b.started_at : a.id < b.id;
  });
  return out;
}

std::size_t session_registry::live_count() const {
  std::lock_guard lock(mu_);
  return live_;
}

std::size_t session_registry::listed_count() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void session_registry::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  const auto now = clock::now();
  for (auto& [id, e] : sessions_) {
    if (is_ended(e.s.status)) continue;
    end_locked(e, session_status::terminated, now);
    runner_->terminate(e.run_id);
    journal_locked(e, now);
  }
}

void session_registry::prune() {
  std::lock_guard lock(mu_);
  prune_locked(clock::now());
}

void session_registry::prune_locked(clock::time_point now) {
  const auto stale = [this](const ended_ref& r) {
    auto it = sessions_.find(r.id);
    return it == sessions_.end() || it->second.run_id != r.run_id || !is_ended(it->second.s.status);
  };
  while (!ended_.empty()) {
    const ended_ref& r = ended_.front();
    if (stale(r)) {
      ended_.pop_front();
      continue;
    }
    if (ended_count_ > limits_.max_ended || now - r.when >= limits_.ended_retention) {
      sessions_.erase(r.id);
      --ended_count_;
      ended_.pop_front();
      continue;
    }
    break;
  }
  // Stale refs behind the front (sessions restored and ended again) are compacted in bulk.
  if (ended_.size() > 2 * limits_.max_ended + 64) {
    std::deque<ended_ref> kept;
    for (auto& r : ended_)
      if (!stale(r)) kept.push_back(std::move(r));
    ended_ = std::move(kept);
  }
}

void session_registry::on_run_end(const std::string& id, std::uint64_t run_id, run_outcome o) {
  std::optional<session> changed;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.run_id != run_id || is_ended(it->second.s.status)) return;
    entry& e = it->second;
    if (o.success)
      e.s.metrics.tasks_completed += 1;
    else
      e.s.metrics.errors_encountered += 1;
    const auto now = clock::now();
    end_locked(e, o.success ? session_status::completed : session_status::failed, now);
    journal_locked(e, now);
    changed = e.s;
    prune_locked(now);
  }
  if (changed && on_update_) on_update_(*changed);
}

void session_registry::journal_locked(const entry& e, clock::time_point now, const boost::json::object* snapshot,
                                      std::string reason) {
  if (!journal_) return;
  journal_record r;
  r.s = snapshot_of(e, now);
  if (snapshot) r.memory_snapshot = *snapshot;
  r.reason = std::move(reason);
  journal_->append(r);
}

bool session_registry::contains(std::string_view id) const {
  std::lock_guard lock(mu_);
  return sessions_.contains(std::string(id));
}

session_registry::recovery session_registry::recover(const std::vector<journal_record>& records, bool restart_live,
                                                     const std::string& reason) {
  recovery out;
  std::lock_guard lock(mu_);
  const auto now = clock::now();
  for (const journal_record& r : records) {
    if (r.s.id.empty() || sessions_.contains(r.s.id)) continue;
    entry e;
    e.s = r.s;
    e.run_id = next_run_id_++;
    e.run_started = now;
    const double before = std::isfinite(r.s.metrics.duration) && r.s.metrics.duration > 0 ? r.s.metrics.duration : 0;
    if (!is_ended(r.s.status) && restart_live) {
      e.s.status = session_status::running;
      e.base_duration = before;
      if (start_run_locked(e, r.memory_snapshot.empty() ? nullptr : &r.memory_snapshot, std::string{})) {
        auto it = sessions_.emplace(e.s.id, std::move(e)).first;
        ++live_;
        ++out.restarted;
        // A restored session keeps its snapshot in the journal for the next restart.
        journal_locked(it->second, now, r.memory_snapshot.empty() ? nullptr : &r.memory_snapshot);
        continue;
      }
      e.run_id = next_run_id_++;
    }
    if (is_ended(r.s.status)) {
      e.ended = now;
      ++ended_count_;
      ended_.push_back(ended_ref{now, e.s.id, e.run_id});
      sessions_.emplace(e.s.id, std::move(e));
      ++out.ended;
      continue;
    }
    // Its work died with the previous daemon.
    e.base_duration = before;
    e.s.metrics.errors_encountered += 1;
    ++live_;  // end_locked counts it out
    end_locked(e, session_status::failed, now);
    e.s.metrics.duration = before;
    auto it = sessions_.emplace(e.s.id, std::move(e)).first;
    journal_locked(it->second, now, nullptr, reason);
    out.failed.push_back(it->second.s);
  }
  prune_locked(now);
  return out;
}

}  // namespace neolith::detail
