// The in-memory session runner: a session is a record held until it is terminated. It keeps
// what a restore hands it (the memorySnapshot) for as long as the run lasts.
#include <neolith/daemon/session_runner.hpp>

#include <mutex>
#include <unordered_map>

namespace neolith {

namespace {

class inproc_runner final : public session_runner {
 public:
  std::string_view name() const noexcept override { return "inproc"; }

  result<void> start(const run_request& r, end_handler) override {
    std::lock_guard lock(mu_);
    run_state st;
    if (r.snapshot) st.snapshot = *r.snapshot;
    runs_.insert_or_assign(r.run_id, std::move(st));
    return outcome::success();
  }

  void terminate(std::uint64_t run_id) override {
    std::lock_guard lock(mu_);
    runs_.erase(run_id);
  }

  void shutdown(bool, std::function<void()> done) override {
    {
      std::lock_guard lock(mu_);
      runs_.clear();
    }
    if (done) done();
  }

  std::size_t active_runs() const override {
    std::lock_guard lock(mu_);
    return runs_.size();
  }

 private:
  struct run_state {
    boost::json::object snapshot;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, run_state> runs_;
};

}  // namespace

std::shared_ptr<session_runner> make_inproc_runner() { return std::make_shared<inproc_runner>(); }

}  // namespace neolith
