// The session journal's format (detail/session_journal.hpp): records round-trip (memory
// snapshot, epoch, reason), the last record of a session wins, a torn last record (cut short,
// or a checksum that fails) is dropped and cut off, a damaged record followed by others or a
// file that is not a journal is a clear error, compaction keeps the latest state, and one
// fsync covers every record written before it (group commit).
#define BOOST_TEST_MODULE session_journal
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/temp_dir.hpp"

#include <neolith/daemon/detail/session_journal.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <unistd.h>

using namespace neolith;
using namespace neolith::detail;
using namespace neolith::test;
namespace fs = std::filesystem;

namespace {


fs::path journal_file(const temp_dir& d) { return d.path / std::string(session_journal::file_name); }

journal_record record(std::string id, session_status st) {
  journal_record r;
  r.s.id = std::move(id);
  r.s.orchestrator_id = "orch";
  r.s.task.id = "task";
  r.s.task.description = "do";
  r.s.status = st;
  return r;
}

std::shared_ptr<session_journal> open(const temp_dir& d, journal_contents& c) {
  auto j = session_journal::open(d.path.string(), c);
  BOOST_TEST_REQUIRE(j.has_value(), "open: " << (j ? std::string() : j.error().what()));
  return std::move(j).value();
}

void spit(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes; }

/// Writes a journal of `records` and returns its bytes.
std::string journal_of(const temp_dir& d, const std::vector<journal_record>& records) {
  journal_contents c;
  auto j = open(d, c);
  for (const auto& r : records) j->append(r);
  BOOST_TEST_REQUIRE(j->sync(j->appended()).has_value());
  return read_file(journal_file(d));
}

}  // namespace

BOOST_AUTO_TEST_CASE(records_round_trip_and_the_last_one_wins) {
  temp_dir d;
  {
    journal_contents c;
    auto j = open(d, c);
    BOOST_TEST(c.sessions.empty());
    auto a = record("a", session_status::running);
    a.memory_snapshot["k"] = "v";
    a.epoch = 7;
    j->append(a);
    j->append(record("b", session_status::running));
    auto a_end = record("a", session_status::failed);
    a_end.reason = "the daemon restarted";
    j->append(a_end);
    BOOST_TEST(j->appended() == 3u);
    BOOST_TEST_REQUIRE(j->sync(3).has_value());
  }
  journal_contents c;
  auto j = open(d, c);
  BOOST_TEST(c.records == 3u);
  BOOST_TEST(c.torn_bytes == 0u);
  BOOST_TEST_REQUIRE(c.sessions.size() == 2u);
  BOOST_TEST(c.sessions[0].s.id == "a");  // in order of first record
  BOOST_TEST((c.sessions[0].s.status == session_status::failed));
  BOOST_TEST(c.sessions[0].reason == "the daemon restarted");
  BOOST_TEST(c.sessions[1].s.id == "b");
  BOOST_TEST(c.sessions[1].s.task.description == "do");

  // The snapshot and epoch of a record come back.
  temp_dir d2;
  auto r = record("x", session_status::running);
  r.memory_snapshot["deep"] = boost::json::object{{"n", 1}};
  r.epoch = 42;
  const auto read = read_journal(journal_of(d2, {r}));
  BOOST_TEST_REQUIRE(read.has_value());
  BOOST_TEST(read.value().sessions.at(0).memory_snapshot == r.memory_snapshot);
  BOOST_TEST((read.value().sessions.at(0).epoch == std::optional<std::uint64_t>(42)));
}

BOOST_AUTO_TEST_CASE(a_record_cut_short_is_dropped_and_cut_off) {
  temp_dir d;
  const std::string full = journal_of(d, {record("a", session_status::running), record("b", session_status::running)});
  for (std::size_t cut : {1u, 5u, 9u, 20u}) {
    spit(journal_file(d), full.substr(0, full.size() - cut));
    journal_contents c;
    auto j = open(d, c);
    BOOST_TEST(c.records == 1u);
    BOOST_TEST(c.torn_bytes > 0u);
    BOOST_TEST_REQUIRE(c.sessions.size() == 1u);
    BOOST_TEST(c.sessions[0].s.id == "a");
    // Appends follow the last good record.
    j->append(record("c", session_status::running));
    BOOST_TEST_REQUIRE(j->sync(j->appended()).has_value());
    j.reset();
    journal_contents again;
    open(d, again);
    BOOST_TEST(again.torn_bytes == 0u);
    BOOST_TEST_REQUIRE(again.sessions.size() == 2u);
    BOOST_TEST(again.sessions[1].s.id == "c");
  }
  // A file cut inside its header is an empty journal.
  spit(journal_file(d), full.substr(0, 3));
  journal_contents c;
  open(d, c);
  BOOST_TEST(c.sessions.empty());
}

BOOST_AUTO_TEST_CASE(a_last_record_whose_checksum_fails_is_dropped) {
  temp_dir d;
  std::string bytes = journal_of(d, {record("a", session_status::running), record("b", session_status::running)});
  bytes[bytes.size() - 3] ^= 0x20;  // inside the last payload
  spit(journal_file(d), bytes);
  journal_contents c;
  open(d, c);
  BOOST_TEST(c.records == 1u);
  BOOST_TEST(c.torn_bytes > 0u);
  BOOST_TEST_REQUIRE(c.sessions.size() == 1u);
  BOOST_TEST(c.sessions[0].s.id == "a");
}

BOOST_AUTO_TEST_CASE(a_damaged_record_with_records_after_it_is_corruption) {
  temp_dir d;
  std::string bytes = journal_of(d, {record("a", session_status::running), record("b", session_status::running)});
  bytes[20] ^= 0x01;  // inside the first payload
  spit(journal_file(d), bytes);
  journal_contents c;
  auto j = session_journal::open(d.path.string(), c);
  BOOST_TEST_REQUIRE(!j.has_value());
  const std::string why = j.error().what();
  BOOST_TEST(why.find("corrupt session journal at byte 8") != std::string::npos, why);
  BOOST_TEST(why.find(journal_file(d).string()) != std::string::npos, why);
  BOOST_TEST(read_file(journal_file(d)) == bytes);  // left as it was, for the operator

  // Not a journal at all.
  spit(journal_file(d), "{\"hello\": 1}\n");
  BOOST_TEST(!session_journal::open(d.path.string(), c).has_value());
  // A checksummed record that is not a session.
  BOOST_TEST(!read_journal(std::string("NLJRNL1\n") + std::string("\x02\x00\x00\x00", 4) +
                           std::string("\x43\xbf\xa6\xa3", 4) + "{}")
                  .has_value());
}

BOOST_AUTO_TEST_CASE(compaction_keeps_the_latest_state) {
  temp_dir d;
  journal_contents c;
  auto j = open(d, c);
  BOOST_TEST(!j->wants_compaction());
  for (int round = 0; round < 300; ++round)
    for (int s = 0; s < 10; ++s)
      j->append(record("s" + std::to_string(s), round == 299 && s % 2 ? session_status::terminated : session_status::running));
  BOOST_TEST_REQUIRE(j->sync(j->appended()).has_value());
  BOOST_TEST(j->wants_compaction());
  const auto before = fs::file_size(journal_file(d));
  // Ended sessions are kept only when asked: s1 is, s3/s5/s7/s9 are not.
  BOOST_TEST_REQUIRE(j->compact([](std::string_view id) { return id == "s1"; }).has_value());
  BOOST_TEST(!j->wants_compaction());
  BOOST_TEST(fs::file_size(journal_file(d)) < before / 100);
  j->append(record("new", session_status::running));  // appends go on in the new file
  BOOST_TEST_REQUIRE(j->sync(j->appended()).has_value());
  j.reset();
  journal_contents after;
  open(d, after);
  BOOST_TEST(after.records == 7u);  // s0 s2 s4 s6 s8 (live), s1 (kept), new
  for (const auto& r : after.sessions) {
    if (r.s.id == "s1") BOOST_TEST((r.s.status == session_status::terminated));
    else BOOST_TEST((r.s.status == session_status::running));
  }
  BOOST_TEST(!fs::exists(d.path / "sessions.journal.tmp"));
}

BOOST_AUTO_TEST_CASE(one_fsync_covers_every_record_written_before_it) {
  temp_dir d;
  journal_contents c;
  auto j = open(d, c);
  for (int i = 0; i < 10; ++i) j->append(record("s" + std::to_string(i), session_status::running));
  BOOST_TEST_REQUIRE(j->sync(3).has_value());
  BOOST_TEST(j->syncs() == 1u);
  for (std::uint64_t seq = 1; seq <= 10; ++seq) BOOST_TEST_REQUIRE(j->sync(seq).has_value());
  BOOST_TEST(j->syncs() == 1u);  // all ten were written before the first fsync

  // Concurrent writers: every one returns once its record is durable; never more fsyncs than records.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const auto seq = j->append(record("t" + std::to_string(t) + "-" + std::to_string(i), session_status::running));
        if (j->sync(seq)) ok.fetch_add(1);
      }
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(ok.load() == 100);
  BOOST_TEST(j->syncs() <= 101u);
  j.reset();
  journal_contents after;
  open(d, after);
  BOOST_TEST(after.sessions.size() == 110u);
}
