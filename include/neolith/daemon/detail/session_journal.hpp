// The daemon's session journal (`--state-dir DIR`): every change of a session appended to
// DIR/sessions.journal as one record, and fsynced before the request that made it is answered,
// so that a daemon restarted on the same directory knows its sessions.
//
// File: the 8 bytes "NLJRNL1\n", then records: payload length (4 bytes, little endian), the
// CRC-32 of the payload (4 bytes, little endian), the payload: a JSON object
// {"session": Session, "memorySnapshot"?: {...}, "epoch"?: n, "reason"?: "..."}. The last
// record of a session id is its state. A record cut short or whose checksum fails at the end
// of the file (power lost mid-write) is dropped and cut off; one followed by more records, or
// a checksummed payload that does not parse, means the file is corrupt: opening fails.
//
// Group commit: `append()` writes at once (no fsync); `sync(seq)` returns once a fsync begun
// after record `seq` was written has completed. Concurrent callers share one fsync: the first
// one syncs everything written so far, the others wait for it (or for the next).
//
// Compaction rewrites the file with the latest record of every session kept (temporary file,
// fsync, rename, fsync of the directory), so that it does not grow without bound.
#ifndef NEOLITH_DAEMON_DETAIL_SESSION_JOURNAL_HPP
#define NEOLITH_DAEMON_DETAIL_SESSION_JOURNAL_HPP

#include <neolith/core/error.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/object.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace neolith::detail {

/// One session's state as journaled.
struct journal_record {
  session s;
  boost::json::object memory_snapshot;  ///< a restored session's memorySnapshot (else empty)
  std::optional<std::uint64_t> epoch;   ///< the cluster's epoch of the record, where there is one
  std::string reason;                   ///< why the session ended, when the daemon decided it
};

/// The framed bytes of one record (header and payload).
std::string encode_journal_record(const journal_record& r);

/// What a journal file holds.
struct journal_contents {
  std::vector<journal_record> sessions;  ///< the latest record of every session id, in order of first record
  std::size_t records = 0;               ///< valid records read
  std::size_t valid_bytes = 0;           ///< the file's length up to the end of its last valid record
  std::size_t torn_bytes = 0;            ///< bytes dropped after it (a torn last record)
};

/// Reads the bytes of a journal file (an empty one is an empty journal). Fails with
/// `errc::illegal_byte_sequence` and a message giving the byte offset when the file is corrupt.
result<journal_contents> read_journal(std::string_view bytes);

class session_journal {
 public:
  static constexpr std::string_view file_name = "sessions.journal";

  /// Opens DIR/sessions.journal (creating DIR and the file when needed), reads it into
  /// `contents` and cuts a torn last record off. Fails on an unusable directory or file, or a
  /// corrupt journal (the message names the file).
  static result<std::shared_ptr<session_journal>> open(const std::string& dir, journal_contents& contents);

  ~session_journal();
  session_journal(const session_journal&) = delete;
  session_journal& operator=(const session_journal&) = delete;

  /// Writes `r` (not yet durable); returns its sequence number (from 1). Thread-safe.
  std::uint64_t append(const journal_record& r);
  /// The sequence number of the last record written.
  std::uint64_t appended() const;
  /// Waits until record `seq` is on disk (group commit). Fails when a write or fsync failed
  /// (every later call fails too: the journal can no longer be trusted).
  result<void> sync(std::uint64_t seq);

  /// True when the file holds many more records than sessions (time to compact).
  bool wants_compaction() const;
  /// Rewrites the file with the latest record of every live session and of the ended ones
  /// for which `keep_ended(id)` is true.
  result<void> compact(const std::function<bool(std::string_view id)>& keep_ended);

  const std::string& path() const noexcept { return path_; }
  /// fsyncs made by sync() so far (a measure of the group commit).
  std::uint64_t syncs() const;

 private:
  struct latest {
    bool ended = false;
    std::string framed;
  };
  session_journal(std::string dir, std::string path, int fd);
  result<void> write_all_locked(std::string_view bytes);

  const std::string dir_;
  const std::string path_;
  mutable std::mutex mu_;
  std::condition_variable synced_cv_;
  int fd_ = -1;                   // under mu_
  std::uint64_t appended_ = 0;    // under mu_
  std::uint64_t synced_ = 0;      // under mu_
  bool syncing_ = false;          // under mu_
  std::optional<error_info> failed_;  // under mu_
  std::uint64_t syncs_ = 0;       // under mu_
  std::size_t records_in_file_ = 0;  // under mu_
  std::unordered_map<std::string, latest> latest_;  // under mu_
};

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_SESSION_JOURNAL_HPP
