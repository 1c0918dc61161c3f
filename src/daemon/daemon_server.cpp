#include <neolith/daemon/daemon_server.hpp>

#include <neolith/core/detail/light_strand.hpp>
#include <neolith/daemon/detail/daemon_connection.hpp>
#include <neolith/daemon/detail/daemon_server_impl.hpp>
#include <neolith/daemon/detail/daemon_state.hpp>
#include <neolith/transport/detail/tls_context.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <exception>
#include <utility>

namespace neolith {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::shared_ptr<session_runner> make_runner(const asio::any_io_executor& ex, const daemon_options& o) {
  if (o.custom_runner) return o.custom_runner;
  if (o.runner == runner_kind::process) {
    process_runner_options p;
    p.exec = o.exec;
    p.terminate_grace = o.terminate_grace;
    p.work_dir = o.work_dir;
    p.log = detail::daemon_logger(o).text_sink("runner");
    return make_process_runner(ex, std::move(p));
  }
  return make_inproc_runner();
}

void log_exception(const std::shared_ptr<daemon_server::impl>& s, const char* what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    s->log(std::string(what) + ": " + x.what(), log_level::error);
  } catch (...) {
    s->log(std::string(what) + ": unknown exception", log_level::error);
  }
}

}  // namespace

// ----- impl ------------------------------------------------------------------------------

daemon_server::impl::impl(asio::any_io_executor e, daemon_options o)
    : ex(std::move(e)),
      strand(asio::make_strand(ex)),
      opts(std::move(o)),
      runner(make_runner(ex, opts)),
      core(std::make_shared<detail::daemon_core>(opts, runner)),
      acceptor(strand),
      heartbeat_timer(strand),
      sample_timer(strand) {}

void daemon_server::impl::release() {
  if (live.fetch_sub(1) == 1) check_stopped();
}

void daemon_server::impl::check_stopped() {
  if (!stopping.load() || live.load() != 0) return;
  if (stopped.exchange(true)) return;
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(mu);
    waiters.swap(stopped_waiters);
  }
  log("daemon stopped");
  // One handler runs them all, in registration order: with several io threads, separate posts
  // would run concurrently and a later-registered callback could observe an earlier one unrun.
  if (!waiters.empty())
    asio::post(ex, [waiters = std::move(waiters)]() mutable {
      for (auto& w : waiters) w();
    });
}

void daemon_server::impl::add_connection(const std::shared_ptr<detail::daemon_connection>& c) {
  bool accepted = false;
  {
    std::lock_guard lock(mu);
    if (!stopping.load()) {
      conns.emplace(c.get(), c);
      accepted = true;
    }
  }
  if (!accepted) c->abort();  // stop began meanwhile: closed at once
  c->start();
}

void daemon_server::impl::remove_connection(detail::daemon_connection* c) {
  std::lock_guard lock(mu);
  conns.erase(c);
}

std::vector<std::shared_ptr<detail::daemon_connection>> daemon_server::impl::connections() const {
  std::vector<std::shared_ptr<detail::daemon_connection>> out;
  std::lock_guard lock(mu);
  out.reserve(conns.size());
  for (const auto& [p, w] : conns)
    if (auto c = w.lock()) out.push_back(std::move(c));
  return out;
}

void daemon_server::impl::broadcast(const std::shared_ptr<const std::string>& text, std::atomic<std::uint64_t>& sent) {
  auto cs = connections();
  sent.fetch_add(cs.size());
  for (auto& c : cs) c->push(text);
}

asio::awaitable<void> daemon_server::impl::accept_loop(std::shared_ptr<impl> self) {
  live_guard guard(self);
  asio::steady_timer backoff(strand);
  while (!stopping.load()) {
    auto [ec, sock] = co_await acceptor.async_accept(detail::make_light_strand(ex), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping.load() || !acceptor.is_open()) break;
      // E.g. EMFILE: back off briefly instead of spinning.
      log("accept failed: " + ec.message(), log_level::warning);
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    boost::system::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    auto c = std::make_shared<detail::daemon_connection>(self, std::move(sock));
    add_connection(c);
  }
}

asio::awaitable<void> daemon_server::impl::heartbeat_loop(std::shared_ptr<impl> self) {
  live_guard guard(self);
  while (!stopping.load()) {
    heartbeat_timer.expires_after(opts.heartbeat_interval);
    auto [ec] = co_await heartbeat_timer.async_wait(use_tuple);
    if (ec || stopping.load()) break;
    auto text = std::make_shared<const std::string>(core->heartbeat_text());
    broadcast(text, core->counters().heartbeats_sent);
  }
}

asio::awaitable<void> daemon_server::impl::sample_loop(std::shared_ptr<impl> self) {
  live_guard guard(self);
  while (!stopping.load()) {
    sample_timer.expires_after(opts.health_sample_interval);
    auto [ec] = co_await sample_timer.async_wait(use_tuple);
    if (ec || stopping.load()) break;
    core->sampler().sample();
    core->registry().prune();
    detail::maintain_state(*core);
  }
}

void daemon_server::impl::begin_stop(bool abort) {
  if (abort) {
    if (abort_begun) return;
    abort_begun = true;
  } else if (stop_begun || abort_begun) {
    return;
  }
  const bool first = !stop_begun;
  stop_begun = true;
  stopping.store(true);
  log(abort ? "daemon aborting" : "daemon stopping");
  std::vector<std::shared_ptr<detail::daemon_connection>> cs;
  {
    std::lock_guard lock(mu);
    boost::system::error_code ignored;
    acceptor.close(ignored);
    cs.reserve(conns.size());
    for (const auto& [p, w] : conns)
      if (auto c = w.lock()) cs.push_back(std::move(c));
  }
  heartbeat_timer.cancel();
  sample_timer.cancel();
  for (auto& c : cs) {
    if (abort)
      c->abort();
    else
      c->close(boost::beast::websocket::close_code::going_away, "");
  }
  if (first) core->registry().close();
  live.fetch_add(1);
  auto self = shared_from_this();
  runner->shutdown(abort, [self] { self->release(); });
  check_stopped();
}

// ----- daemon_server ---------------------------------------------------------------------

daemon_server::daemon_server(asio::io_context& ioc, daemon_options opts)
    : daemon_server(ioc.get_executor(), std::move(opts)) {}

daemon_server::daemon_server(asio::any_io_executor ex, daemon_options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts))) {}

daemon_server::~daemon_server() {
  if (impl_) abort();
}

result<tcp::endpoint> daemon_server::start() {
  impl& s = *impl_;
  if (auto v = validate(s.opts); !v) return v.error();
  std::lock_guard lock(s.mu);
  if (s.started) return error_info(error::invalid_argument, "the daemon was already started");
  if (s.stopping.load()) return error_info(error::shutting_down, "the daemon was stopped");
  if (s.opts.tls) {
    auto ctx = detail::make_server_tls_context(*s.opts.tls);
    if (!ctx) return ctx.error();
    s.tls_context = std::move(ctx).value();
  }
  s.started = true;

  boost::system::error_code ec;
  tcp::resolver resolver(s.ex);
  auto results = resolver.resolve(s.opts.host, std::to_string(s.opts.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    return error_info(ec ? ec : make_error_code(error::invalid_endpoint), "cannot resolve '" + s.opts.host + "'");
  const tcp::endpoint wanted = results.begin()->endpoint();
  s.acceptor.open(wanted.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(wanted, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) s.endpoint = s.acceptor.local_endpoint(ec);
  if (ec) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    return error_info(ec, "cannot listen on " + s.opts.host + ":" + std::to_string(s.opts.port));
  }
  if (s.core->node_id().empty()) {
    boost::system::error_code hec;
    std::string host = asio::ip::host_name(hec);
    if (hec || host.empty()) host = "localhost";
    s.core->set_node_id(host + ":" + std::to_string(s.endpoint.port()));
  }

  if (auto state = detail::open_state(*s.core); !state) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    return state.error();
  }

  std::weak_ptr<impl> weak = impl_;
  s.core->registry().set_update_handler([weak](const session& changed) {
    auto self = weak.lock();
    if (!self) return;
    self->core->log_session(changed.id, changed.status);
    std::string text = self->core->session_updated_text(changed);
    if (text.empty()) return;
    self->broadcast(std::make_shared<const std::string>(std::move(text)), self->core->counters().session_updates_sent);
  });

  auto self = impl_;
  asio::co_spawn(s.strand, s.accept_loop(self), [self](std::exception_ptr e) { log_exception(self, "accept loop", e); });
  asio::co_spawn(s.strand, s.heartbeat_loop(self), [self](std::exception_ptr e) { log_exception(self, "heartbeat loop", e); });
  asio::co_spawn(s.strand, s.sample_loop(self), [self](std::exception_ptr e) { log_exception(self, "sampler", e); });
  s.log("listening on " + s.endpoint.address().to_string() + ":" + std::to_string(s.endpoint.port()) +
        (s.tls_context ? std::string(" (TLS") + (s.opts.tls->client_ca_file.empty() ? "" : ", client certificates required") + ")" : std::string()) +
        " as node " + s.core->node_id() + " (runner " + std::string(s.runner->name()) + ")");
  return s.endpoint;
}

tcp::endpoint daemon_server::local_endpoint() const {
  std::lock_guard lock(impl_->mu);
  return impl_->endpoint;
}

std::string daemon_server::node_id() const { return impl_->core->node_id(); }

void daemon_server::stop() {
  auto self = impl_;
  asio::dispatch(self->strand, [self] { self->begin_stop(false); });
}

void daemon_server::abort() {
  auto self = impl_;
  asio::dispatch(self->strand, [self] { self->begin_stop(true); });
}

bool daemon_server::stopped() const { return impl_->stopped.load(); }

void daemon_server::impl::on_stopped(std::function<void()> f) {
  {
    std::lock_guard lock(mu);
    if (!stopped.load()) {
      stopped_waiters.push_back(std::move(f));
      return;
    }
  }
  asio::post(ex, std::move(f));
}

void daemon_server::on_stopped(std::function<void()> f) { impl_->on_stopped(std::move(f)); }

namespace {

/// Initiation of async_wait_stopped: the handler is resumed through its own executor once
/// the server has stopped. (A plain function object, not a lambda inside a coroutine.)
struct wait_stopped_initiation {
  std::shared_ptr<daemon_server::impl> s;

  template <class Handler>
  void operator()(Handler&& handler) const {
    auto ex = asio::get_associated_executor(handler, s->ex);
    auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    s->on_stopped([h, ex] { asio::post(ex, [h]() mutable { std::move(*h)(); }); });
  }
};

}  // namespace

asio::awaitable<void> daemon_server::async_wait_stopped() {
  return asio::async_initiate<const asio::use_awaitable_t<>, void()>(wait_stopped_initiation{impl_},
                                                                     asio::use_awaitable);
}

node_health daemon_server::health() const { return impl_->core->health(); }
node_capabilities daemon_server::capabilities() const { return impl_->core->capabilities(); }
std::vector<session> daemon_server::sessions() const { return impl_->core->registry().list(); }
std::size_t daemon_server::live_sessions() const { return impl_->core->registry().live_count(); }

daemon_stats daemon_server::stats() const {
  daemon_stats st;
  impl_->core->fill_stats(st);
  return st;
}

const daemon_options& daemon_server::options() const noexcept { return impl_->opts; }

}  // namespace neolith
