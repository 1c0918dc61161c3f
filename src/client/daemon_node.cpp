// daemon_node's public operations: thin coroutines over the request path of node_impl.
#include <neolith/client/daemon_node.hpp>

#include "node_impl.hpp"

#include <boost/asio/use_awaitable.hpp>

namespace neolith {

namespace asio = boost::asio;
using detail::node_impl;
using detail::steady;

daemon_node::daemon_node(executor_type ex, std::string node_id, node_endpoint endpoint,
                         std::optional<node_capabilities> capabilities, node_options options)
    : impl_(std::make_shared<node_impl>(std::move(ex), std::move(node_id), std::move(endpoint),
                                        std::move(capabilities), std::move(options))) {}

daemon_node::~daemon_node() {
  if (impl_) impl_->shutdown();
}

const std::string& daemon_node::id() const noexcept { return impl_->id; }
const node_endpoint& daemon_node::endpoint() const noexcept { return impl_->endpoint; }
const node_options& daemon_node::options() const noexcept { return impl_->options; }
node_capabilities daemon_node::capabilities() const { return impl_->capabilities(); }
bool daemon_node::capabilities_known() const noexcept { return impl_->capabilities_known(); }
connection_state daemon_node::state() const noexcept { return impl_->state.load(std::memory_order_acquire); }
node_health daemon_node::cached_health() const { return impl_->cached_health(); }
node_statistics daemon_node::statistics() const noexcept { return impl_->statistics(); }
daemon_node::executor_type daemon_node::get_executor() const noexcept { return impl_->inner_executor; }

bool daemon_node::is_healthy() const noexcept {
  if (state() != connection_state::connected) return false;
  const auto s = impl_->cached_health().status;
  return s == node_status::healthy || s == node_status::degraded;
}

void detail::initiate_request(node_impl& impl, message req, call_deadline d, asio::any_io_executor caller,
                              asio::any_completion_handler<void(result<message>)> handler) {
  const auto now = steady::now();
  auto deadline = d.resolve(impl.options.request_timeout, now);
  // Already past (an absolute budget spent): fails with `timeout` unsent (see submit()).
  if (deadline <= now) deadline = node_impl::deadline_passed;
  impl.request(std::move(req), deadline, std::move(caller), std::move(handler));
}

// ----- Connection ----------------------------------------------------------------------

// The daemon_node may be destroyed while an operation waits (it then completes with
// shutting_down), or between the moment an operation's awaitable is made and the moment it
// starts: each public operation is a plain function that hands the node's state (`impl`, a
// shared_ptr) to the coroutine doing the work, whose frame keeps it; no coroutine reads `this`.
//
// GCC 12 destroys a lambda temporary that appears in a co_await expression twice: the
// initiations are named locals (a captured shared_ptr would otherwise be released twice).

namespace {

using impl_ptr = std::shared_ptr<node_impl>;

asio::awaitable<result<void>> connect_op(impl_ptr impl) {
  auto init = [impl](auto handler) { impl->connect(detail::void_completion(std::move(handler))); };
  auto r = co_await asio::async_initiate<const asio::use_awaitable_t<>, void(result<void>)>(init, asio::use_awaitable);
  co_return r;
}

asio::awaitable<result<void>> disconnect_op(impl_ptr impl) {
  auto init = [impl](auto handler) { impl->disconnect(detail::void_completion(std::move(handler))); };
  auto r = co_await asio::async_initiate<const asio::use_awaitable_t<>, void(result<void>)>(init, asio::use_awaitable);
  co_return r;
}

/// The request `req` on `impl`, awaited with its answer of type `Answer`. The caller's frame
/// keeps `impl` alive while it waits.
template <class Answer, class Request>
auto call(node_impl& impl, Request req, steady::time_point deadline) {
  auto init = [&impl](auto handler, Request r, steady::time_point dl) {
    detail::start_call<Answer>(impl, message(std::move(r)), call_deadline(dl), std::move(handler));
  };
  return asio::async_initiate<const asio::use_awaitable_t<>, void(result<Answer>)>(init, asio::use_awaitable,
                                                                                    std::move(req), deadline);
}

steady::time_point request_deadline(const node_impl& impl, call_deadline d) {
  return d.resolve(impl.options.request_timeout);
}

asio::awaitable<result<msg::node_info>> fetch_node_info(impl_ptr impl, steady::time_point deadline) {
  auto a = co_await call<msg::node_info>(*impl, msg::get_node_info{}, deadline);
  if (!a) co_return std::move(a).error();
  impl->set_capabilities(a.value().capabilities);
  a.value().request_id.reset();
  co_return std::move(a).value();
}

asio::awaitable<result<session>> spawn_op(impl_ptr impl, session_spawn_request request, call_deadline d) {
  const auto dl = request_deadline(*impl, d);
  if (!impl->capabilities_known()) {
    auto info = co_await fetch_node_info(impl, dl);
    if (!info) co_return std::move(info).error();
  }
  const auto caps = impl->capabilities();
  if (!caps.can_spawn_sessions)
    co_return error_info(error::spawn_not_supported, "node '" + impl->id + "' cannot spawn sessions");
  if (!caps.supports(request.type))
    co_return error_info(error::unsupported_session_type, "node '" + impl->id + "' does not support session type '" +
                                                              std::string(to_string(request.type)) + "'");
  msg::spawn_session m;
  m.request = std::move(request);
  auto a = co_await call<msg::session_spawned>(*impl, std::move(m), dl);
  if (!a) co_return std::move(a).error();
  impl->post_event(event::session_spawned{a.value().session});
  co_return std::move(a.value().session);
}

asio::awaitable<result<std::optional<session>>> get_session_op(impl_ptr impl, std::string session_id, call_deadline d) {
  msg::get_session m;
  m.session_id = std::move(session_id);
  auto a = co_await call<msg::session_state>(*impl, std::move(m), request_deadline(*impl, d));
  if (!a) co_return std::move(a).error();
  co_return std::move(a.value().session);
}

asio::awaitable<result<bool>> terminate_op(impl_ptr impl, std::string session_id, call_deadline d) {
  msg::terminate_session m;
  m.session_id = session_id;
  auto a = co_await call<msg::session_terminated>(*impl, std::move(m), request_deadline(*impl, d));
  if (!a) co_return std::move(a).error();
  if (a.value().success) impl->post_event(event::session_terminated{std::move(session_id)});
  co_return a.value().success;
}

asio::awaitable<result<bool>> restore_op(impl_ptr impl, serialized_session serialized, call_deadline d) {
  std::string session_id = serialized.session.id;
  msg::restore_session m;
  m.serialized = std::move(serialized);
  auto a = co_await call<msg::session_restored>(*impl, std::move(m), request_deadline(*impl, d));
  if (!a) co_return std::move(a).error();
  if (a.value().success) impl->post_event(event::session_restored{std::move(session_id)});
  co_return a.value().success;
}

asio::awaitable<result<std::vector<session>>> get_sessions_op(impl_ptr impl, call_deadline d) {
  auto a = co_await call<msg::sessions_response>(*impl, msg::get_sessions{}, request_deadline(*impl, d));
  if (!a) co_return std::move(a).error();
  co_return std::move(a.value().sessions);
}

asio::awaitable<result<msg::node_info>> get_node_info_op(impl_ptr impl, call_deadline d) {
  const auto dl = request_deadline(*impl, d);
  co_return co_await fetch_node_info(std::move(impl), dl);
}

asio::awaitable<result<node_health>> get_health_op(impl_ptr impl, call_deadline d) {
  if (impl->state.load(std::memory_order_acquire) != connection_state::connected)
    co_return impl->cached_health();  // offline
  auto a = co_await call<msg::health_response>(*impl, msg::get_health{}, d.resolve(impl->options.health_timeout));
  if (!a) {
    // As the seed: a failed health request means an unhealthy node, not an error (but a
    // cancelled one, or an answer of another type).
    if (a.error() == error::cancelled || a.error() == error::unexpected_response) co_return std::move(a).error();
    node_health h = impl->cached_health();
    h.status = node_status::unhealthy;
    co_return h;
  }
  impl->set_health(a.value().health);
  co_return a.value().health;
}

}  // namespace

asio::awaitable<result<void>> daemon_node::connect() { return connect_op(impl_); }
asio::awaitable<result<void>> daemon_node::disconnect() { return disconnect_op(impl_); }

asio::awaitable<result<session>> daemon_node::spawn_session(session_spawn_request request, deadline d) {
  return spawn_op(impl_, std::move(request), d);
}
asio::awaitable<result<std::optional<session>>> daemon_node::get_session(std::string session_id, deadline d) {
  return get_session_op(impl_, std::move(session_id), d);
}
asio::awaitable<result<bool>> daemon_node::terminate_session(std::string session_id, deadline d) {
  return terminate_op(impl_, std::move(session_id), d);
}
asio::awaitable<result<bool>> daemon_node::restore_session(serialized_session serialized, deadline d) {
  return restore_op(impl_, std::move(serialized), d);
}
asio::awaitable<result<std::vector<session>>> daemon_node::get_sessions(deadline d) { return get_sessions_op(impl_, d); }
asio::awaitable<result<msg::node_info>> daemon_node::get_node_info(deadline d) { return get_node_info_op(impl_, d); }
asio::awaitable<result<node_health>> daemon_node::get_health(deadline d) { return get_health_op(impl_, d); }

// ----- Events --------------------------------------------------------------------------

event_subscription daemon_node::subscribe() { return event_subscription(impl_->subscribe()); }

std::uint64_t daemon_node::add_listener(std::function<void(const node_event&)> callback) {
  return impl_->add_listener(std::move(callback));
}

void daemon_node::remove_listener(std::uint64_t lid) { impl_->remove_listener(lid); }

// ----- event_subscription --------------------------------------------------------------

event_subscription::~event_subscription() { close(); }
event_subscription::event_subscription(event_subscription&&) noexcept = default;
event_subscription& event_subscription::operator=(event_subscription&& o) noexcept {
  if (this != &o) {
    close();
    state_ = std::move(o.state_);
  }
  return *this;
}

std::uint64_t event_subscription::dropped() const noexcept {
  if (!state_) return 0;
  std::lock_guard lock(state_->mutex);
  return state_->dropped;
}

void event_subscription::close() {
  if (state_) state_->close();
}

std::optional<node_event> event_subscription::try_receive() {
  if (!state_) return std::nullopt;
  std::lock_guard lock(state_->mutex);
  if (state_->queue.empty()) return std::nullopt;
  node_event e = std::move(state_->queue.front());
  state_->queue.pop_front();
  return e;
}

namespace {

struct cancel_receive {
  std::weak_ptr<detail::subscription_state> state;
  asio::any_io_executor ex;  // the waiting coroutine's executor
  void operator()(asio::cancellation_type) const {
    auto s = state.lock();
    if (!s) return;
    std::optional<asio::any_completion_handler<void(result<node_event>)>> w;
    {
      std::lock_guard lock(s->mutex);
      if (s->waiter) {
        w = std::move(s->waiter);
        s->waiter.reset();
      }
    }
    if (!w) return;
    // We run inside the slot's own handler: complete later, through the waiter's executor.
    asio::post(ex, [h = std::move(*w)]() mutable {
      auto slot = asio::get_associated_cancellation_slot(h);
      if (slot.is_connected()) slot.clear();
      std::move(h)(result<node_event>(error_info(error::cancelled, "receive() was cancelled")));
    });
  }
};

}  // namespace

namespace {

// A plain function hands the state to the coroutine (see the operations above): the
// subscription may be gone by the time the awaitable starts.
asio::awaitable<result<node_event>> receive_op(std::shared_ptr<detail::subscription_state> s);

}  // namespace

asio::awaitable<result<node_event>> event_subscription::receive() { return receive_op(state_); }

namespace {

asio::awaitable<result<node_event>> receive_op(std::shared_ptr<detail::subscription_state> s) {
  if (!s) co_return error_info(error::shutting_down, "the subscription is closed");
  auto init = [s](auto concrete) {
    const asio::any_io_executor ex = asio::get_associated_executor(concrete);
    asio::any_completion_handler<void(result<node_event>)> handler(std::move(concrete));
    // The type-erased handler has a cancellation slot of its own (layered over the
    // caller's); the cancellation handler goes there, before anything may complete it.
    auto slot = asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.template emplace<cancel_receive>(cancel_receive{s, ex});
    std::unique_lock lock(s->mutex);
    if (!s->queue.empty()) {
      node_event e = std::move(s->queue.front());
      s->queue.pop_front();
      lock.unlock();
      detail::deliver(std::move(handler), result<node_event>(std::move(e)));
      return;
    }
    if (s->closed) {
      lock.unlock();
      detail::deliver(std::move(handler),
                      result<node_event>(error_info(error::shutting_down, "the subscription is closed")));
      return;
    }
    s->waiter.emplace(std::move(handler));
  };
  auto r = co_await asio::async_initiate<const asio::use_awaitable_t<>, void(result<node_event>)>(init, asio::use_awaitable);
  co_return r;
}

}  // namespace

}  // namespace neolith
