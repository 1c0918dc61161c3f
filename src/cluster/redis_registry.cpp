#include <neolith/cluster/redis_registry.hpp>

#include <neolith/cluster/detail/redis_connection.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/evp.h>

#include <charconv>

namespace neolith::cluster {

namespace asio = boost::asio;
using detail::redis_reply;

namespace {

// ----- The scripts (docs/cluster.md explains them) ---------------------------------------
// Every script gets the key prefix "neolith:<cluster>:" as ARGV[1] and builds the names of the
// per-node sets from it, so no script can reach a key outside its cluster. Entries are hashes
// {node, epoch, state, type, meta}; "node:<node>" sets and the "sessions" set index them.

constexpr std::string_view claim_script = R"lua(
-- KEYS[1] entry; ARGV: prefix, id, node, state, type, meta
if redis.call('EXISTS', KEYS[1]) == 1 then
  local cur = redis.call('HMGET', KEYS[1], 'node', 'epoch')
  return {0, cur[1], cur[2]}
end
redis.call('HSET', KEYS[1], 'node', ARGV[3], 'epoch', '1', 'state', ARGV[4], 'type', ARGV[5], 'meta', ARGV[6])
redis.call('SADD', ARGV[1] .. 'node:' .. ARGV[3], ARGV[2])
redis.call('SADD', ARGV[1] .. 'sessions', ARGV[2])
return {1}
)lua";

constexpr std::string_view cas_script = R"lua(
-- KEYS[1] entry; ARGV: prefix, id, expected node, expected epoch, new node, new state, has meta, meta
local cur = redis.call('HMGET', KEYS[1], 'node', 'epoch')
if not cur[1] then return {-1} end
if cur[1] ~= ARGV[3] or cur[2] ~= ARGV[4] then return {0, cur[1], cur[2]} end
redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'node', ARGV[5], 'state', ARGV[6])
if ARGV[7] == '1' then redis.call('HSET', KEYS[1], 'meta', ARGV[8]) end
if ARGV[5] ~= ARGV[3] then
  redis.call('SREM', ARGV[1] .. 'node:' .. ARGV[3], ARGV[2])
  redis.call('SADD', ARGV[1] .. 'node:' .. ARGV[5], ARGV[2])
end
local e = redis.call('HMGET', KEYS[1], 'node', 'epoch', 'state', 'type', 'meta')
return {1, e[1], e[2], e[3], e[4], e[5]}
)lua";

constexpr std::string_view remove_script = R"lua(
-- KEYS[1] entry; ARGV: prefix, id, expected epoch ('' for any)
local cur = redis.call('HMGET', KEYS[1], 'node', 'epoch')
if not cur[1] then return {-1} end
if ARGV[3] ~= '' and cur[2] ~= ARGV[3] then return {0, cur[1], cur[2]} end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. 'node:' .. cur[1], ARGV[2])
redis.call('SREM', ARGV[1] .. 'sessions', ARGV[2])
return {1}
)lua";

constexpr std::string_view list_script = R"lua(
-- KEYS[1] an index set; ARGV: prefix. Every entry as {id, node, epoch, state, type, meta}.
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local e = redis.call('HMGET', ARGV[1] .. 'session:' .. id, 'node', 'epoch', 'state', 'type', 'meta')
  if e[1] then out[#out + 1] = {id, e[1], e[2], e[3], e[4], e[5]} end
end
return out
)lua";

std::string sha1_hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

struct script {
  std::string_view name;
  std::string_view text;
  std::string sha;
};

struct script_set {
  script claim, cas, remove, list;
};

// Computed once (thread-safe static initialisation).
const script_set& scripts() {
  static const script_set s{{"claim", claim_script, sha1_hex(claim_script)},
                            {"compare_and_set", cas_script, sha1_hex(cas_script)},
                            {"remove", remove_script, sha1_hex(remove_script)},
                            {"list", list_script, sha1_hex(list_script)}};
  return s;
}

error_info bad_reply(std::string_view op, const redis_reply& r) {
  return {error::registry_protocol, "Redis answered " + std::string(op) + " with an unexpected " + r.describe()};
}

// EVALSHA, and on NOSCRIPT (a restarted or flushed Redis) SCRIPT LOAD then EVALSHA again.
asio::awaitable<result<redis_reply>> run_script(detail::redis_connection& conn, std::chrono::milliseconds timeout,
                                                const script& s, std::vector<std::string> keys,
                                                std::vector<std::string> args) {
  std::vector<std::string> cmd{"EVALSHA", s.sha, std::to_string(keys.size())};
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  for (int attempt = 0;; ++attempt) {
    auto reply = co_await conn.exec(cmd, timeout);
    if (!reply) co_return reply;
    const auto& r = reply.value();
    if (!r.is_error()) co_return reply;
    if (attempt == 0 && r.str.rfind("NOSCRIPT", 0) == 0) {
      std::vector<std::string> load{"SCRIPT", "LOAD", std::string(s.text)};
      auto loaded = co_await conn.exec(std::move(load), timeout);
      if (!loaded) co_return loaded.error();
      if (loaded.value().type != redis_reply::kind::string || loaded.value().str != s.sha) {
        co_return error_info(error::registry_protocol, "Redis did not load the " + std::string(s.name) +
                                                           " script: " + loaded.value().describe());
      }
      continue;
    }
    co_return error_info(error::registry_protocol,
                         "Redis refused the " + std::string(s.name) + " script: " + r.str.substr(0, 200));
  }
}

const redis_reply* element(const redis_reply& r, std::size_t i) {
  return r.type == redis_reply::kind::array && i < r.elements.size() ? &r.elements[i] : nullptr;
}

bool as_string(const redis_reply* r, std::string& out) {
  if (r == nullptr || r->type != redis_reply::kind::string) return false;
  out = r->str;
  return true;
}

bool as_epoch(const redis_reply* r, std::uint64_t& out) {
  if (r == nullptr) return false;
  if (r->type == redis_reply::kind::integer) {
    if (r->integer < 0) return false;
    out = static_cast<std::uint64_t>(r->integer);
    return true;
  }
  if (r->type != redis_reply::kind::string) return false;
  const auto* b = r->str.data();
  const auto* e = b + r->str.size();
  const auto [end, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && end == e && b != e;
}

// {node, epoch, state, type, meta} from element `first` of `r` on.
bool decode_fields(const redis_reply& r, std::size_t first, session_location& loc) {
  std::string state;
  if (!as_string(element(r, first), loc.node_id) || !as_epoch(element(r, first + 1), loc.epoch) ||
      !as_string(element(r, first + 2), state) || !as_string(element(r, first + 3), loc.session_type) ||
      !as_string(element(r, first + 4), loc.metadata))
    return false;
  const auto s = location_state_from_string(state);
  if (!s) return false;
  loc.state = *s;
  return true;
}

// The status integer (first element) of a write script's reply, or nullopt.
std::optional<std::int64_t> status_of(const redis_reply& r) {
  const auto* first = element(r, 0);
  if (first == nullptr || first->type != redis_reply::kind::integer) return std::nullopt;
  return first->integer;
}

// {0, node, epoch}: the entry is elsewhere.
result<void> conflict_from(const redis_reply& r, std::string_view id, std::string_view op, std::string_view expected) {
  std::string node;
  std::uint64_t epoch = 0;
  if (!as_string(element(r, 1), node) || !as_epoch(element(r, 2), epoch)) return bad_reply(op, r);
  const auto code = op == "claim" ? error::location_exists : error::location_conflict;
  std::string msg = "session " + std::string(id) + " is " + (op == "claim" ? "already " : "") + "at node " + node +
                    " epoch " + std::to_string(epoch);
  if (!expected.empty()) msg += ", not " + std::string(expected);
  return error_info(code, std::move(msg));
}

error_info not_found(std::string_view id) {
  return {error::session_not_found, "the registry has no session " + std::string(id)};
}

bool valid_cluster_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

result<std::unique_ptr<redis_registry>> redis_registry::create(asio::any_io_executor ex, redis_registry_options opts) {
  if (!valid_cluster_name(opts.cluster)) {
    return error_info(error::invalid_argument, "the cluster name '" + opts.cluster +
                                                   "' must be 1-64 letters, digits, '_', '-' or '.'");
  }
  BOOST_OUTCOME_TRY(auto address, detail::parse_redis_url(opts.url));
  detail::redis_connection_options copts;
  copts.address = std::move(address);
  copts.connect_timeout = opts.connect_timeout;
  copts.reconnect_base = opts.reconnect_base;
  copts.reconnect_max = opts.reconnect_max;
  auto conn = detail::redis_connection::create(std::move(ex), std::move(copts));
  conn->start();
  return std::make_unique<redis_registry>(std::move(conn), std::move(opts));
}

redis_registry::redis_registry(std::shared_ptr<detail::redis_connection> conn, redis_registry_options opts)
    : conn_(std::move(conn)), opts_(std::move(opts)), prefix_("neolith:" + opts_.cluster + ":") {}

redis_registry::~redis_registry() { conn_->stop(); }

bool redis_registry::connected() const noexcept { return conn_->connected(); }

std::uint64_t redis_registry::connections() const noexcept { return conn_->connections(); }

asio::awaitable<result<void>> redis_registry::wait_connected(std::chrono::milliseconds timeout) {
  auto conn = conn_;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!conn->connected()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      co_return error_info(error::registry_unavailable, "Redis at " + conn->address().url() + " is not connected after " +
                                                            std::to_string(timeout.count()) + " ms");
    }
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return outcome::success();
}

asio::awaitable<result<session_location>> redis_registry::claim(session_location loc) {
  if (loc.session_id.empty() || loc.node_id.empty())
    co_return error_info(error::invalid_argument, "a claim needs a session id and a node id");
  auto conn = conn_;
  const auto& s = scripts().claim;
  std::vector<std::string> keys{prefix_ + "session:" + loc.session_id};
  std::vector<std::string> args{prefix_,          loc.session_id, loc.node_id, std::string(to_string(loc.state)),
                                loc.session_type, loc.metadata};
  auto reply = co_await run_script(*conn, opts_.request_timeout, s, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  const auto status = status_of(reply.value());
  if (status == 1) {
    loc.epoch = 1;
    co_return loc;
  }
  if (status == 0) {
    auto c = conflict_from(reply.value(), loc.session_id, "claim", "");
    co_return c.error();
  }
  co_return bad_reply("claim", reply.value());
}

asio::awaitable<result<session_location>> redis_registry::get(std::string session_id) {
  auto conn = conn_;
  std::vector<std::string> cmd{"HMGET", prefix_ + "session:" + session_id, "node", "epoch", "state", "type", "meta"};
  auto reply = co_await conn->exec(std::move(cmd), opts_.request_timeout);
  if (!reply) co_return reply.error();
  const auto& r = reply.value();
  const auto* node = element(r, 0);
  if (node != nullptr && node->type == redis_reply::kind::nil) co_return not_found(session_id);
  session_location loc;
  loc.session_id = std::move(session_id);
  if (!decode_fields(r, 0, loc)) co_return bad_reply("get", r);
  co_return loc;
}

namespace {

asio::awaitable<result<std::vector<session_location>>> list_set(detail::redis_connection& conn,
                                                                std::chrono::milliseconds timeout,
                                                                const std::string& prefix, std::string set_key) {
  const auto& s = scripts().list;
  std::vector<std::string> keys{std::move(set_key)};
  std::vector<std::string> args{prefix};
  auto reply = co_await run_script(conn, timeout, s, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  const auto& r = reply.value();
  if (r.type != redis_reply::kind::array) co_return bad_reply("list", r);
  std::vector<session_location> out;
  out.reserve(r.elements.size());
  for (const auto& e : r.elements) {
    session_location loc;
    if (!as_string(element(e, 0), loc.session_id) || !decode_fields(e, 1, loc)) co_return bad_reply("list", e);
    out.push_back(std::move(loc));
  }
  co_return out;
}

}  // namespace

asio::awaitable<result<std::vector<session_location>>> redis_registry::list_node(std::string node_id) {
  auto conn = conn_;
  co_return co_await list_set(*conn, opts_.request_timeout, prefix_, prefix_ + "node:" + node_id);
}

asio::awaitable<result<std::vector<session_location>>> redis_registry::list_all() {
  auto conn = conn_;
  co_return co_await list_set(*conn, opts_.request_timeout, prefix_, prefix_ + "sessions");
}

asio::awaitable<result<session_location>> redis_registry::compare_and_set(std::string session_id,
                                                                          std::string expected_node,
                                                                          std::uint64_t expected_epoch,
                                                                          location_update update) {
  if (update.node_id.empty()) co_return error_info(error::invalid_argument, "a compare-and-set needs a node id");
  auto conn = conn_;
  const auto& s = scripts().cas;
  const std::string expected = "node " + expected_node + " epoch " + std::to_string(expected_epoch);
  std::vector<std::string> keys{prefix_ + "session:" + session_id};
  std::vector<std::string> args{prefix_,        session_id,
                                expected_node,  std::to_string(expected_epoch),
                                update.node_id, std::string(to_string(update.state)),
                                update.metadata ? "1" : "0", update.metadata.value_or("")};
  auto reply = co_await run_script(*conn, opts_.request_timeout, s, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  const auto status = status_of(reply.value());
  if (status == -1) co_return not_found(session_id);
  if (status == 0) {
    auto c = conflict_from(reply.value(), session_id, "compare_and_set", expected);
    co_return c.error();
  }
  session_location loc;
  loc.session_id = std::move(session_id);
  if (status != 1 || !decode_fields(reply.value(), 1, loc)) co_return bad_reply("compare_and_set", reply.value());
  co_return loc;
}

asio::awaitable<result<void>> redis_registry::remove(std::string session_id, std::optional<std::uint64_t> expected_epoch) {
  auto conn = conn_;
  const auto& s = scripts().remove;
  std::vector<std::string> keys{prefix_ + "session:" + session_id};
  std::vector<std::string> args{prefix_, session_id, expected_epoch ? std::to_string(*expected_epoch) : ""};
  auto reply = co_await run_script(*conn, opts_.request_timeout, s, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  const auto status = status_of(reply.value());
  if (status == 1) co_return outcome::success();
  if (status == -1) co_return not_found(session_id);
  if (status == 0) {
    co_return conflict_from(reply.value(), session_id, "remove",
                            expected_epoch ? "epoch " + std::to_string(*expected_epoch) : "");
  }
  co_return bad_reply("remove", reply.value());
}

}  // namespace neolith::cluster
