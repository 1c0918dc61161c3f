#include <neolith/daemon/detail/daemon_state.hpp>
#include <neolith/daemon/detail/session_journal.hpp>

#include <string>

namespace neolith::detail {

namespace {

result<void> compact(daemon_core& core) {
  session_registry& reg = core.registry();
  return reg.journal()->compact([&reg](std::string_view id) { return reg.contains(id); });
}

}  // namespace

result<void> open_state(daemon_core& core) {
  const std::string& dir = core.options().state_dir;
  if (dir.empty()) return outcome::success();
  journal_contents contents;
  auto j = session_journal::open(dir, contents);
  if (!j) return j.error();
  session_registry& reg = core.registry();
  reg.set_journal(std::move(j).value());
  const bool restart = reg.runner().name() == "inproc";
  const auto rec = reg.recover(contents.sessions, restart, "the daemon restarted: the session's work ended with it");
  if (auto c = compact(core); !c) return c.error();
  if (core.logger().enabled(log_level::info)) {
    std::string text = "session journal " + reg.journal()->path() + ": " + std::to_string(contents.records) +
                       " records, " + std::to_string(rec.ended) + " ended sessions, " + std::to_string(rec.restarted) +
                       " running again, " + std::to_string(rec.failed.size()) + " failed";
    if (contents.torn_bytes > 0) text += "; a torn last record (" + std::to_string(contents.torn_bytes) + " bytes) dropped";
    log_record r;
    r.level = contents.torn_bytes > 0 ? log_level::warning : log_level::info;
    r.event = "journal_recovered";
    r.message = text;
    core.log(r);
    for (const session& s : rec.failed) {
      log_record f;
      f.event = "session_state";
      f.session = s.id;
      f.status = to_string(s.status);
      f.reason = "the daemon restarted: the session's work ended with it";
      core.log(f);
    }
  }
  return outcome::success();
}

void maintain_state(daemon_core& core) {
  const auto& j = core.registry().journal();
  if (!j || !j->wants_compaction()) return;
  if (auto c = compact(core); !c) core.logger().text(log_level::error, "journal_failed", c.error().what());
}

}  // namespace neolith::detail
