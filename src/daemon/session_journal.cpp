#include <neolith/core/detail/fd_io.hpp>
#include <neolith/daemon/detail/session_journal.hpp>

#include <neolith/protocol/json.hpp>

#include <boost/crc.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace neolith::detail {

namespace {

constexpr std::string_view magic = "NLJRNL1\n";
constexpr std::size_t header_bytes = 8;
/// A length above this is not a record (a session is at most a few max-size messages).
constexpr std::uint32_t max_payload_bytes = 256u * 1024 * 1024;

std::uint32_t crc32_of(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

error_info system_failure(std::string what) {
  const int e = errno;
  return error_info(error_code(e, boost::system::system_category()), std::move(what) + ": " + std::strerror(e));
}

error_info corrupt(std::size_t offset, std::string what) {
  return error_info(make_error_code(boost::system::errc::illegal_byte_sequence),
                    "corrupt session journal at byte " + std::to_string(offset) + ": " + std::move(what));
}

result<journal_record> decode_payload(std::string_view payload, std::size_t offset) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(payload, ec);
  if (ec || !v.is_object()) return corrupt(offset, "a record is not a JSON object");
  const auto& o = v.as_object();
  const auto* s = o.if_contains("session");
  if (!s) return corrupt(offset, "a record has no session");
  auto sess = from_json<session>(*s);
  if (!sess) return corrupt(offset, "a record's session: " + sess.error().what());
  journal_record r;
  r.s = std::move(sess).value();
  if (const auto* m = o.if_contains("memorySnapshot"); m && m->is_object()) r.memory_snapshot = m->as_object();
  if (const auto* e = o.if_contains("epoch"); e && e->is_number()) r.epoch = e->to_number<std::uint64_t>(ec);
  if (const auto* why = o.if_contains("reason"); why && why->is_string()) r.reason = std::string(why->as_string());
  return r;
}

result<void> fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return system_failure("cannot open " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return system_failure("fsync of " + dir + " failed");
  return outcome::success();
}

}  // namespace

std::string encode_journal_record(const journal_record& r) {
  boost::json::object o;
  o["session"] = boost::json::value_from(r.s);
  if (!r.memory_snapshot.empty()) o["memorySnapshot"] = r.memory_snapshot;
  if (r.epoch) o["epoch"] = *r.epoch;
  if (!r.reason.empty()) o["reason"] = r.reason;
  const std::string payload = boost::json::serialize(o);
  std::string out;
  out.reserve(8 + payload.size());
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, crc32_of(payload));
  out += payload;
  return out;
}

result<journal_contents> read_journal(std::string_view bytes) {
  journal_contents c;
  if (bytes.empty()) return c;
  if (bytes.size() < magic.size()) {
    // A file cut before its header was complete: nothing was ever journaled in it.
    if (magic.substr(0, bytes.size()) == bytes) {
      c.torn_bytes = bytes.size();
      return c;
    }
    return corrupt(0, "not a neolith session journal");
  }
  if (bytes.substr(0, magic.size()) != magic) return corrupt(0, "not a neolith session journal");
  std::size_t pos = magic.size();
  std::unordered_map<std::string, std::size_t> index;
  while (pos < bytes.size()) {
    const std::size_t left = bytes.size() - pos;
    if (left < header_bytes) break;  // a torn header
    const std::uint32_t len = get_u32(bytes.data() + pos);
    const std::uint32_t crc = get_u32(bytes.data() + pos + 4);
    if (len > max_payload_bytes) {
      // Garbage for a length: torn if nothing can follow (the rest is shorter than what a
      // sane length would need), corrupt otherwise.
      if (left - header_bytes < max_payload_bytes) break;
      return corrupt(pos, "a record length of " + std::to_string(len) + " bytes");
    }
    if (left - header_bytes < len) break;  // cut short
    const std::string_view payload = bytes.substr(pos + header_bytes, len);
    const std::size_t end = pos + header_bytes + len;
    if (crc32_of(payload) != crc) {
      if (end == bytes.size()) break;  // the last record: torn
      return corrupt(pos, "a record's checksum does not match and more records follow it");
    }
    auto rec = decode_payload(payload, pos);
    if (!rec) return rec.error();
    const std::string id = rec.value().s.id;
    if (auto it = index.find(id); it != index.end()) {
      c.sessions[it->second] = std::move(rec).value();
    } else {
      index.emplace(id, c.sessions.size());
      c.sessions.push_back(std::move(rec).value());
    }
    ++c.records;
    pos = end;
  }
  c.valid_bytes = pos;
  c.torn_bytes = bytes.size() - pos;
  return c;
}

session_journal::session_journal(std::string dir, std::string path, int fd)
    : dir_(std::move(dir)), path_(std::move(path)), fd_(fd) {}

session_journal::~session_journal() {
  if (fd_ >= 0) ::close(fd_);
}

result<std::shared_ptr<session_journal>> session_journal::open(const std::string& dir, journal_contents& contents) {
  std::error_code fec;
  std::filesystem::create_directories(dir, fec);
  if (fec) return error_info(fec, "cannot create the state directory " + dir + ": " + fec.message());
  const std::string path = (std::filesystem::path(dir) / file_name).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return system_failure("cannot open " + path);
  std::shared_ptr<session_journal> j(new session_journal(dir, path, fd));
  std::string bytes;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_failure("cannot read " + path);
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
  }
  auto read = read_journal(bytes);
  if (!read) return error_info(read.error().code, path + ": " + read.error().message);
  contents = std::move(read).value();
  // A new file gets its header; a torn tail is cut off so that appends follow the last good record.
  std::size_t keep = contents.valid_bytes;
  if (keep < magic.size()) {
    if (::ftruncate(fd, 0) != 0) return system_failure("cannot truncate " + path);
    if (::lseek(fd, 0, SEEK_SET) < 0 || !write_all(fd, magic)) return system_failure("cannot write " + path);
    keep = magic.size();
  } else if (contents.torn_bytes > 0 && ::ftruncate(fd, static_cast<off_t>(keep)) != 0) {
    return system_failure("cannot truncate " + path);
  }
  if (::lseek(fd, static_cast<off_t>(keep), SEEK_SET) < 0) return system_failure("cannot seek in " + path);
  if (::fdatasync(fd) != 0) return system_failure("fsync of " + path + " failed");
  if (auto d = fsync_dir(dir); !d) return d.error();
  j->records_in_file_ = contents.records;
  for (const auto& r : contents.sessions) j->latest_[r.s.id] = latest{is_ended(r.s.status), encode_journal_record(r)};
  return j;
}

std::uint64_t session_journal::append(const journal_record& r) {
  std::string framed = encode_journal_record(r);
  std::lock_guard lock(mu_);
  if (!failed_) {
    if (!write_all(fd_, framed)) failed_ = system_failure("cannot write " + path_);
  }
  ++records_in_file_;
  latest_[r.s.id] = latest{is_ended(r.s.status), std::move(framed)};
  return ++appended_;
}

std::uint64_t session_journal::appended() const {
  std::lock_guard lock(mu_);
  return appended_;
}

std::uint64_t session_journal::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

result<void> session_journal::sync(std::uint64_t seq) {
  std::unique_lock lock(mu_);
  while (synced_ < seq) {
    if (failed_) return *failed_;
    if (syncing_) {
      synced_cv_.wait(lock);
      continue;
    }
    // Lead a group: one fsync covers every record written so far.
    syncing_ = true;
    const std::uint64_t target = appended_;
    const int fd = fd_;
    lock.unlock();
    const int rc = ::fdatasync(fd);
    lock.lock();
    syncing_ = false;
    ++syncs_;
    if (rc != 0)
      failed_ = system_failure("fsync of " + path_ + " failed");
    else
      synced_ = std::max(synced_, target);
    synced_cv_.notify_all();
  }
  return outcome::success();
}

bool session_journal::wants_compaction() const {
  std::lock_guard lock(mu_);
  return records_in_file_ > 1024 && records_in_file_ > 4 * latest_.size();
}

result<void> session_journal::compact(const std::function<bool(std::string_view id)>& keep_ended) {
  std::unique_lock lock(mu_);
  synced_cv_.wait(lock, [&] { return !syncing_; });
  if (failed_) return *failed_;
  for (auto it = latest_.begin(); it != latest_.end();) {
    if (it->second.ended && !keep_ended(it->first))
      it = latest_.erase(it);
    else
      ++it;
  }
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return system_failure("cannot create " + tmp);
  std::string bytes(magic);
  for (const auto& [id, l] : latest_) bytes += l.framed;
  const bool written = write_all(fd, bytes) && ::fsync(fd) == 0;
  if (!written) {
    auto e = system_failure("cannot write " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    auto e = system_failure("cannot rename " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  // The old file is gone: appends go to the new one, which holds everything written so far.
  ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ::close(fd);
  if (fd_ < 0) {
    failed_ = system_failure("cannot reopen " + path_);
    return *failed_;
  }
  records_in_file_ = latest_.size();
  synced_ = appended_;
  synced_cv_.notify_all();
  return fsync_dir(dir_);
}

}  // namespace neolith::detail
