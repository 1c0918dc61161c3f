#include "demo_cluster.hpp"

namespace neolith::cli::demo {

cluster::cluster(unsigned threads) : work_(ioc_.get_executor()) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
}

cluster::~cluster() {
  for (auto& s : daemons_)
    if (s.server) s.server->abort();
  // abort() closes everything at once; its completion is asynchronous but quick. Bounded: a
  // server that has not stopped after 2 s is destroyed anyway (its destructor aborts too).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (auto& s : daemons_) {
    while (s.server && !s.server->stopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s.server.reset();
  }
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
}

result<void> cluster::start(slot& s) {
  auto o = s.opts;
  o.port = s.port;
  auto server = std::make_unique<daemon_server>(ioc_, std::move(o));
  auto ep = server->start();
  if (!ep) return ep.error();
  s.port = ep.value().port();
  s.server = std::move(server);
  return outcome::success();
}

result<std::size_t> cluster::add(daemon_options opts) {
  slot s;
  s.port = opts.port;
  s.opts = std::move(opts);
  BOOST_OUTCOME_TRY(start(s));
  daemons_.push_back(std::move(s));
  return daemons_.size() - 1;
}

void cluster::begin_stop(std::size_t i) {
  if (auto* s = daemons_.at(i).server.get()) s->stop();
}

bool cluster::stopped(std::size_t i) {
  auto& s = daemons_.at(i);
  if (!s.server) return true;
  if (!s.server->stopped()) return false;
  s.server.reset();
  return true;
}

result<void> cluster::restart(std::size_t i) {
  auto& s = daemons_.at(i);
  if (s.server) return error_info(error::invalid_argument, "the daemon of " + s.opts.node_id + " is still running");
  return start(s);
}

}  // namespace neolith::cli::demo
