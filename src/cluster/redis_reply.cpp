#include <neolith/cluster/detail/redis_reply.hpp>

#include <hiredis/hiredis.h>

#include <cstdlib>

namespace neolith::cluster::detail {

namespace {

// hiredis' reply tree into ours (then hiredis frees its own).
redis_reply convert(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING: out.type = redis_reply::kind::string; break;
    case REDIS_REPLY_STATUS: out.type = redis_reply::kind::status; break;
    case REDIS_REPLY_ERROR: out.type = redis_reply::kind::error; break;
    case REDIS_REPLY_INTEGER: out.type = redis_reply::kind::integer; break;
    case REDIS_REPLY_ARRAY: out.type = redis_reply::kind::array; break;
    default: out.type = redis_reply::kind::nil; break;
  }
  if (r.str != nullptr) out.str.assign(r.str, r.len);
  out.integer = r.integer;
  if (r.type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r.elements);
    for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(convert(*r.element[i]));
  }
  return out;
}

struct reply_deleter {
  void operator()(void* p) const noexcept { freeReplyObject(p); }
};

}  // namespace

std::string redis_reply::describe() const {
  switch (type) {
    case kind::string: return "string \"" + str.substr(0, 64) + "\"";
    case kind::status: return "status \"" + str.substr(0, 64) + "\"";
    case kind::error: return "error \"" + str.substr(0, 120) + "\"";
    case kind::integer: return "integer " + std::to_string(integer);
    case kind::nil: return "nil";
    case kind::array: return "array of " + std::to_string(elements.size());
  }
  return "reply";
}

struct resp_reader::impl {
  redisReader* reader = redisReaderCreate();
  ~impl() {
    if (reader != nullptr) redisReaderFree(reader);
  }
};

resp_reader::resp_reader() : impl_(std::make_unique<impl>()) {}
resp_reader::~resp_reader() = default;

result<void> resp_reader::feed(const char* data, std::size_t size) {
  if (impl_->reader == nullptr) return error_info(error::internal, "out of memory for the RESP reader");
  if (redisReaderFeed(impl_->reader, data, size) != REDIS_OK)
    return error_info(error::registry_protocol, std::string("the Redis reply cannot be read: ") + impl_->reader->errstr);
  return outcome::success();
}

result<std::optional<redis_reply>> resp_reader::next() {
  if (impl_->reader == nullptr) return error_info(error::internal, "out of memory for the RESP reader");
  void* raw = nullptr;
  if (redisReaderGetReply(impl_->reader, &raw) != REDIS_OK) {
    return error_info(error::registry_protocol,
                      std::string("the server sent bytes that are not a Redis reply: ") + impl_->reader->errstr);
  }
  if (raw == nullptr) return std::optional<redis_reply>();
  std::unique_ptr<void, reply_deleter> owned(raw);
  return std::optional<redis_reply>(convert(*static_cast<redisReply*>(raw)));
}

std::string format_command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  const int len = redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), argv.data(), lens.data());
  if (len < 0 || cmd == nullptr) throw std::bad_alloc();
  std::string out(cmd, static_cast<std::size_t>(len));
  redisFreeCommand(cmd);
  return out;
}

}  // namespace neolith::cluster::detail
