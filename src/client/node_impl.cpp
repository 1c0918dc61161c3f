// daemon_node's state machine on its strand: requests, deadlines, the supervisor, events.
#include "node_impl.hpp"

#include <neolith/protocol/json.hpp>
#include <neolith/transport/detail/tls_context.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

namespace neolith::detail {

namespace {

/// The answer type a request expects (the table's `kind`); -1 for messages that are not
/// requests.
int expected_answer(message_type t) noexcept {
  switch (t) {
    case message_type::spawn_session: return static_cast<int>(message_type::session_spawned);
    case message_type::get_session: return static_cast<int>(message_type::session_state);
    case message_type::terminate_session: return static_cast<int>(message_type::session_terminated);
    case message_type::restore_session: return static_cast<int>(message_type::session_restored);
    case message_type::get_health: return static_cast<int>(message_type::health_response);
    case message_type::get_sessions: return static_cast<int>(message_type::sessions_response);
    case message_type::get_node_info: return static_cast<int>(message_type::node_info);
    case message_type::heartbeat: return static_cast<int>(message_type::heartbeat_ack);
    default: return -1;
  }
}

std::string random_prefix(small_rng& rng) {
  // 10 base-36 digits (~51 bits): requestIds of different clients of one daemon must not meet
  // in its idempotency window.
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  for (int i = 0; i < 10; ++i) s += digits[rng() % 36];
  s += '.';
  return s;
}

}  // namespace

// ----- subscription_state --------------------------------------------------------------

void subscription_state::push(const node_event& e) {
  std::optional<asio::any_completion_handler<void(result<node_event>)>> w;
  {
    std::lock_guard lock(mutex);
    if (closed) return;
    if (waiter) {
      w = std::move(waiter);
      waiter.reset();
    } else {
      if (queue.size() >= capacity && !queue.empty()) {
        queue.pop_front();
        ++dropped;
        if (node_dropped) node_dropped->fetch_add(1, std::memory_order_relaxed);
      }
      queue.push_back(e);
    }
  }
  if (w) deliver(std::move(*w), result<node_event>(e));
}

void subscription_state::close() {
  std::optional<asio::any_completion_handler<void(result<node_event>)>> w;
  {
    std::lock_guard lock(mutex);
    closed = true;
    node_dropped = nullptr;
    if (waiter) {
      w = std::move(waiter);
      waiter.reset();
    }
  }
  if (w) deliver(std::move(*w), result<node_event>(error_info(error::shutting_down, "the subscription is closed")));
}

// ----- node_impl -----------------------------------------------------------------------

node_impl::node_impl(asio::any_io_executor ex, std::string node_id, node_endpoint ep,
                     std::optional<node_capabilities> caps, node_options opts)
    : id(std::move(node_id)),
      endpoint(std::move(ep)),
      options(std::move(opts)),
      inner_executor(ex),
      strand(make_light_strand(ex)),
      table(std::string()),
      backoff(options.backoff_base, options.backoff_max, options.max_attempts, options.jitter),
      deadline_timer(strand),
      backoff_timer(strand),
      rng(small_rng::from_random_device()),
      caps_(std::move(caps)) {
  table = request_table<call_ptr>(random_prefix(rng));
  if (auto v = validate(options); !v) options_error = std::move(v).error();
  health_.status = node_status::offline;
  if (endpoint.tls) {
    tls_server_name = options.tls.server_name.empty() ? endpoint.host : options.tls.server_name;
    if (options.tls_context) {
      tls_context = options.tls_context;
    } else if (auto ctx = make_client_tls_context(options.tls)) {
      tls_context = std::move(ctx).value();
    } else {
      tls_error = std::move(ctx).error();
    }
  }
}

node_impl::~node_impl() = default;

node_capabilities node_impl::capabilities() const {
  std::lock_guard lock(info_mutex_);
  return caps_.value_or(node_capabilities{});
}

bool node_impl::capabilities_known() const {
  std::lock_guard lock(info_mutex_);
  return caps_.has_value();
}

void node_impl::set_capabilities(const node_capabilities& c) {
  std::lock_guard lock(info_mutex_);
  caps_ = c;
}

node_health node_impl::cached_health() const {
  std::lock_guard lock(info_mutex_);
  node_health h = health_;
  if (state.load(std::memory_order_acquire) != connection_state::connected) h.status = node_status::offline;
  return h;
}

void node_impl::set_health(const node_health& h) {
  std::lock_guard lock(info_mutex_);
  health_ = h;
}

node_statistics node_impl::statistics() const noexcept {
  node_statistics s;
  s.requests = stats.requests.load();
  s.frames_sent = stats.frames_sent.load();
  s.socket_writes = stats.socket_writes.load();
  s.resent = stats.resent.load();
  s.answered = stats.answered.load();
  s.timeouts = stats.timeouts.load();
  s.cancelled = stats.cancelled.load();
  s.unmatched_replies = stats.unmatched_replies.load();
  s.invalid_frames = stats.invalid_frames.load();
  s.connections = stats.connections.load();
  s.connection_losses = stats.connection_losses.load();
  s.heartbeats_sent = stats.heartbeats_sent.load();
  s.dropped_events = stats.dropped_events.load();
  s.frames_compressed = stats.deflate.frames.load();
  s.deflate_input_bytes = stats.deflate.input_bytes.load();
  s.deflate_output_bytes = stats.deflate.output_bytes.load();
  return s;
}

// ----- Requests ------------------------------------------------------------------------

namespace {

/// Cancellation handler installed in the caller's slot: it runs in the caller's context and
/// hands the cancellation to the strand.
struct cancel_request {
  std::weak_ptr<node_impl> node;
  call_ptr call;
  void operator()(asio::cancellation_type type) const {
    if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                 asio::cancellation_type::total)) == asio::cancellation_type::none)
      return;
    if (auto n = node.lock()) {
      asio::post(n->strand, [n, c = call] { n->cancel(c); });
    }
  }
};

}  // namespace

void node_impl::request(message req, steady::time_point deadline, asio::any_io_executor caller,
                        request_completion handler) {
  // The slot of the type-erased handler (a layer over the caller's own slot that lets every
  // cancellation type through).
  auto slot = asio::get_associated_cancellation_slot(handler);
  // Asio's recycling allocator: the block of a finished call is reused by the next one on the
  // thread (a malloc per request less in steady state).
  auto call = std::allocate_shared<call_state>(asio::recycling_allocator<call_state>(), std::move(caller),
                                               std::move(handler));
  if (slot.is_connected()) slot.template emplace<cancel_request>(cancel_request{weak_from_this(), call});
  // Made on the strand (a caller resumed inline by an answer, asking again): submitted now,
  // without a hop through the strand's queue, unless a loop over the table is completing
  // requests, a submission is already under way, or requests posted earlier wait (their order
  // comes first). Completions from this path are posted, never run inside the caller's
  // initiating function.
  if (running_in_light_strand(strand) && inline_submits == 0 && walking == 0 &&
      posted_pending.load(std::memory_order_acquire) == 0) {
    const scope_count inline_submit(inline_submits);
    submit(std::move(req), deadline, std::move(call));
    return;
  }
  posted_pending.fetch_add(1, std::memory_order_acq_rel);
  asio::post(strand, [self = shared_from_this(), r = std::move(req), deadline, call]() mutable {
    self->posted_pending.fetch_sub(1, std::memory_order_acq_rel);
    self->submit(std::move(r), deadline, std::move(call));
  });
}

void node_impl::submit(message req, steady::time_point deadline, call_ptr call) {
  auto fail = [&](error_info e) {
    e.sent = send_state::never_sent;
    call->done = true;
    finish(call, result<message>(std::move(e)));
  };
  if (call->done) return;
  const int kind = expected_answer(type_of(req));
  if (kind < 0) return fail(error_info(error::invalid_argument, "not a request: " + std::string(to_string(type_of(req)))));
  if (shut_down) return fail(error_info(error::shutting_down, "the node is shut down"));
  if (deadline == deadline_passed) {
    stats.timeouts.fetch_add(1, std::memory_order_relaxed);
    return fail(error_info(error::timeout, "the request's deadline had passed when it was made"));
  }
  const auto st = state.load(std::memory_order_relaxed);
  if (stopping || st == connection_state::disconnected || st == connection_state::failed) {
    return fail(error_info(error::not_connected, st == connection_state::failed
                                                     ? "the node has failed: every reconnection attempt failed"
                                                     : "the node is not connected"));
  }
  if (st != connection_state::connected && table.queued() >= options.queue_max) {
    return fail(error_info(error::queue_full, "the request queue is full (" + std::to_string(options.queue_max) +
                                                  " requests wait for the connection)"));
  }
  const request_handle h = table.add(kind, deadline, call);
  call->handle = h;
  auto* e = table.get(h);
  // The requestId goes last, as the TypeScript client writes it: encode without it, then
  // close the object with it. No temporary string for the id.
  set_request_id(req, std::nullopt);
  encode(req, e->frame);
  if (e->frame.empty() || e->frame.back() != '}') {
    abandon(h, error_info(error::internal, "encoding produced no object"));
    return;
  }
  e->frame.pop_back();
  e->frame += e->frame.size() > 1 ? ",\"requestId\":\"" : "\"requestId\":\"";
  table.append_id(h, e->frame);
  e->frame += "\"}";
  if (e->frame.size() > options.max_message_bytes) {
    abandon(h, error_info(error::message_too_large, "the request is " + std::to_string(e->frame.size()) +
                                                         " bytes, above the maximum message size of " +
                                                         std::to_string(options.max_message_bytes)));
    return;
  }
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  arm_deadline_timer();
  if (conn) conn->wake_writer();
}

void node_impl::cancel(const call_ptr& call) {
  if (call->done || !call->handle) {
    // Not submitted yet (cannot happen: the strand is FIFO) or already completed.
    return;
  }
  stats.cancelled.fetch_add(1, std::memory_order_relaxed);
  abandon(*call->handle, error_info(error::cancelled, "the request was cancelled by its caller"));
}

void node_impl::abandon(request_handle h, error_info e) {
  if (const auto* entry = table.get(h))
    e.sent = entry->ever_written ? send_state::may_have_executed : send_state::never_sent;
  complete(h, result<message>(std::move(e)));
}

void node_impl::complete(request_handle h, result<message> r) {
  auto c = table.release(h);
  if (!c || !*c) return;
  if ((*c)->done) return;
  (*c)->done = true;
  finish(std::move(*c), std::move(r));
}

void node_impl::finish(call_ptr call, result<message> r) {
  if (inline_submits == 0) return deliver(*call, std::move(r));
  asio::post(strand, [call = std::move(call), r = std::move(r)]() mutable { deliver(*call, std::move(r)); });
}

void node_impl::arm_deadline_timer() {
  const auto next = table.next_deadline();
  if (!next) return;
  if (deadline_armed && *deadline_armed <= *next) return;
  deadline_armed = *next;
  const auto gen = ++deadline_generation;
  deadline_timer.expires_at(*next);
  deadline_timer.async_wait([self = shared_from_this(), gen](boost::system::error_code) {
    if (gen != self->deadline_generation) return;  // re-armed since
    self->deadline_armed.reset();
    self->on_deadline();
  });
}

// A loop over the table that completes requests counts in `walking`: requests their callers
// make meanwhile go through the strand's queue, not into the table under the loop.
void node_impl::on_deadline() {
  const scope_count walk(walking);
  for (const auto h : table.expired(steady::now())) {
    stats.timeouts.fetch_add(1, std::memory_order_relaxed);
    abandon(h, error_info(error::timeout, "the request's deadline passed"));
  }
  if (!shut_down) arm_deadline_timer();
}

void node_impl::fail_all(const error_info& e) {
  {
    const scope_count walk(walking);
    for (const auto h : table.all()) abandon(h, e);
  }
  // Nothing waits any more: the deadline timer must not keep the executor busy.
  ++deadline_generation;
  deadline_armed.reset();
  deadline_timer.cancel();
}

// ----- Events --------------------------------------------------------------------------

void node_impl::post_event(node_event e) {
  asio::post(strand, [self = shared_from_this(), ev = std::move(e)]() mutable { self->emit(std::move(ev)); });
}

void node_impl::emit(node_event e) {
  std::erase_if(subscriptions, [](const auto& w) { return w.expired(); });
  for (const auto& w : subscriptions) {
    if (auto s = w.lock()) s->push(e);
  }
  // Listeners may remove themselves while called: iterate over a snapshot of the ids.
  const auto snapshot = listeners;
  for (const auto& [lid, cb] : snapshot) {
    try {
      cb(e);
    } catch (...) {
      // A listener's exception must not take the node down.
    }
  }
}

std::shared_ptr<subscription_state> node_impl::subscribe() {
  auto s = std::make_shared<subscription_state>();
  s->capacity = std::max<std::size_t>(1, options.event_queue_capacity);
  s->node_dropped = &stats.dropped_events;
  // Registered synchronously under the strand's order: events posted after this call reach it.
  asio::dispatch(strand, [self = shared_from_this(), w = std::weak_ptr(s)] { self->subscriptions.push_back(w); });
  return s;
}

std::uint64_t node_impl::add_listener(std::function<void(const node_event&)> cb) {
  static std::atomic<std::uint64_t> ids{1};
  const auto lid = ids.fetch_add(1);
  asio::dispatch(strand, [self = shared_from_this(), lid, cb = std::move(cb)]() mutable {
    self->listeners.emplace_back(lid, std::move(cb));
  });
  return lid;
}

void node_impl::remove_listener(std::uint64_t lid) {
  asio::dispatch(strand, [self = shared_from_this(), lid] {
    std::erase_if(self->listeners, [lid](const auto& p) { return p.first == lid; });
  });
}

void node_impl::set_state(connection_state s) { state.store(s, std::memory_order_release); }

// ----- Connection lifecycle -------------------------------------------------------------

void node_impl::connect(void_completion handler) {
  asio::post(strand, [self = shared_from_this(), h = std::move(handler)]() mutable {
    if (self->shut_down) return deliver(std::move(h), result<void>(error_info(error::shutting_down, "the node is shut down")));
    // Options the node cannot work with: nothing is started.
    if (self->options_error) return deliver(std::move(h), result<void>(*self->options_error));
    // A TLS setting that cannot be used will not get better by retrying: fail at once.
    if (self->tls_error) {
      self->emit(event::error{*self->tls_error});
      return deliver(std::move(h), result<void>(*self->tls_error));
    }
    if (self->running && !self->stopping && self->state.load() == connection_state::connected)
      return deliver(std::move(h), result<void>(outcome::success()));
    self->connect_waiters.push_back(std::move(h));
    if (!self->running) self->start_supervisor();
    // Running but stopping: the supervisor restarts when it has stopped (see supervise()).
  });
}

void node_impl::disconnect(void_completion handler) {
  asio::post(strand, [self = shared_from_this(), h = std::move(handler)]() mutable {
    if (!self->running) {
      self->set_state(connection_state::disconnected);
      return deliver(std::move(h), result<void>(outcome::success()));
    }
    self->disconnect_waiters.push_back(std::move(h));
    self->stopping = true;
    const error_info why(error::not_connected, "the node was disconnected");
    if (self->conn) self->conn->close(why);
    if (self->attempt) self->attempt->close(why);
    self->backoff_timer.cancel();
    self->fail_all(why);
    self->complete_connect_waiters(result<void>(why));
  });
}

void node_impl::shutdown() {
  asio::post(strand, [self = shared_from_this()] {
    self->shut_down = true;
    self->stopping = true;
    const error_info why(error::shutting_down, "the node was destroyed");
    if (self->conn) self->conn->close(why);
    if (self->attempt) self->attempt->close(why);
    self->backoff_timer.cancel();
    self->deadline_timer.cancel();
    ++self->deadline_generation;
    self->fail_all(why);
    self->complete_connect_waiters(result<void>(why));
    for (auto& w : self->subscriptions) {
      if (auto s = w.lock()) s->close();
    }
    self->subscriptions.clear();
    self->listeners.clear();
  });
}

void node_impl::complete_connect_waiters(const result<void>& r) {
  auto waiters = std::move(connect_waiters);
  connect_waiters.clear();
  for (auto& w : waiters) deliver(std::move(w), r);
}

void node_impl::start_supervisor() {
  running = true;
  stopping = false;
  backoff.reset();
  asio::co_spawn(strand, supervise(), asio::detached);
}

asio::awaitable<void> node_impl::supervise() {
  auto self = shared_from_this();  // the node lives as long as its supervisor
  bool first = true;
  int attempt_no = 0;
  const auto wait_backoff = [&]() -> asio::awaitable<bool> {
    // Returns false when the node failed (no attempt left) or is stopping.
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto delay = backoff.next_delay(unit(rng));
    if (!delay) {
      set_state(connection_state::failed);
      const error_info why(error::not_connected, "the node has failed: " + std::to_string(backoff.attempts()) +
                                                     " reconnection attempts failed");
      fail_all(why);
      complete_connect_waiters(result<void>(error_info(error::reconnect_failed, why.message)));
      emit(event::reconnect_failed{backoff.attempts()});
      co_return false;
    }
    attempt_no = backoff.attempts();
    set_state(connection_state::reconnecting);
    emit(event::reconnecting{attempt_no, *delay});
    backoff_timer.expires_after(*delay);
    co_await backoff_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return !stopping;
  };

  while (!stopping) {
    set_state(first ? connection_state::connecting : connection_state::reconnecting);
    emit(event::connecting{attempt_no});
    auto c = co_await connect_once();
    if (stopping) break;
    if (!c) {
      emit(event::error{c.error()});
      complete_connect_waiters(result<void>(c.error()));
      first = false;
      if (!co_await wait_backoff()) break;
      continue;
    }
    first = false;
    backoff.reset();
    attempt_no = 0;
    conn = std::move(c).value();
    stats.connections.fetch_add(1, std::memory_order_relaxed);
    set_state(connection_state::connected);
    emit(event::connected{});
    complete_connect_waiters(result<void>(outcome::success()));
    error_info reason = co_await conn->run();
    conn.reset();
    // Requests written but unanswered go out again, with the same requestId, once reconnected.
    stats.resent.fetch_add(table.requeue_written(), std::memory_order_relaxed);
    if (stopping) {
      emit(event::disconnected{reason});
      break;
    }
    stats.connection_losses.fetch_add(1, std::memory_order_relaxed);
    set_state(connection_state::reconnecting);
    emit(event::disconnected{reason});
    if (!co_await wait_backoff()) break;
  }

  running = false;
  if (stopping && !shut_down) {
    set_state(connection_state::disconnected);
    stopping = false;
  }
  auto waiters = std::move(disconnect_waiters);
  disconnect_waiters.clear();
  for (auto& w : waiters) deliver(std::move(w), result<void>(outcome::success()));
  // A connect() that came while stopping starts the supervisor over.
  if (!connect_waiters.empty() && !shut_down) start_supervisor();
}

}  // namespace neolith::detail
