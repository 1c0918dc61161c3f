#include "support/raw_ws.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <optional>
#include <vector>

namespace neolith::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// A text frame's header announcing `n` payload bytes (64-bit length form), masked with a zero
/// key (the payload goes out as is) or not.
std::string frame_header(std::size_t n, bool masked) {
  std::string h;
  h.push_back(static_cast<char>(0x81));
  h.push_back(static_cast<char>((masked ? 0x80 : 0) | 127));
  for (int shift = 56; shift >= 0; shift -= 8) h.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xff));
  if (masked) h.append(4, '\0');
  return h;
}

/// The reading half: parses the frames received and notes the first close frame's code.
struct reader_state {
  std::string in;
  std::optional<std::uint16_t> close_code;
  bool ended = false;
  asio::steady_timer signal;
  explicit reader_state(const asio::any_io_executor& ex) : signal(ex, asio::steady_timer::time_point::max()) {}

  void parse() {
    for (;;) {
      if (in.size() < 2) return;
      const auto b0 = static_cast<unsigned char>(in[0]);
      const auto b1 = static_cast<unsigned char>(in[1]);
      std::size_t pos = 2;
      std::uint64_t len = b1 & 0x7f;
      if (len == 126 || len == 127) {
        const std::size_t bytes = len == 126 ? 2 : 8;
        if (in.size() < pos + bytes) return;
        len = 0;
        for (std::size_t i = 0; i < bytes; ++i) len = (len << 8) | static_cast<unsigned char>(in[pos + i]);
        pos += bytes;
      }
      std::array<unsigned char, 4> key{};
      const bool masked = (b1 & 0x80) != 0;
      if (masked) {
        if (in.size() < pos + 4) return;
        for (std::size_t i = 0; i < 4; ++i) key[i] = static_cast<unsigned char>(in[pos + i]);
        pos += 4;
      }
      if (in.size() < pos + len) return;
      if ((b0 & 0x0f) == 0x8 && !close_code) {
        std::uint16_t code = 1005;  // no status code in the frame
        if (len >= 2) {
          const auto c0 = static_cast<unsigned char>(in[pos]) ^ key[0];
          const auto c1 = static_cast<unsigned char>(in[pos + 1]) ^ key[1];
          code = static_cast<std::uint16_t>((c0 << 8) | c1);
        }
        close_code = code;
        signal.cancel();
      }
      in.erase(0, pos + len);
    }
  }
};

asio::awaitable<void> read_all(tcp::socket& s, std::shared_ptr<reader_state> st) {
  std::vector<char> chunk(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk), use_tuple);
    st->in.append(chunk.data(), n);
    st->parse();
    if (ec) break;
  }
  st->ended = true;
  st->signal.cancel();
}

/// Waits until `done()` or `deadline` (the signal wakes it on each change).
template <class Pred>
asio::awaitable<void> wait_for(reader_state& st, Pred done, std::chrono::steady_clock::time_point deadline) {
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    st.signal.expires_at(deadline);
    co_await st.signal.async_wait(use_tuple);
  }
}

asio::awaitable<oversized_exchange> exchange(tcp::socket& s, std::size_t payload_bytes, bool masked,
                                             bool read_while_writing, std::chrono::milliseconds limit,
                                             std::string already_read) {
  oversized_exchange out;
  out.upgraded = true;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<reader_state>(ex);
  st->in = std::move(already_read);
  st->parse();
  // The whole exchange is bounded: past the deadline the socket is closed.
  auto guard = std::make_shared<asio::steady_timer>(ex, deadline);
  guard->async_wait([&s](error_code ec) {
    if (ec) return;
    error_code ignored;
    s.close(ignored);
  });
  const bool late = !read_while_writing;
  if (!late) asio::co_spawn(ex, read_all(s, st), asio::detached);

  const std::string header = frame_header(payload_bytes, masked);
  auto [hec, hn] = co_await asio::async_write(s, asio::buffer(header), use_tuple);
  (void)hn;
  error_code wec = hec;
  const std::vector<char> chunk(256 * 1024, 'x');
  std::size_t left = payload_bytes;
  while (!wec && left > 0) {
    const std::size_t n = std::min(left, chunk.size());
    auto [ec, written] = co_await asio::async_write(s, asio::buffer(chunk.data(), n), use_tuple);
    wec = ec;
    left -= written;
  }
  if (late) asio::co_spawn(ex, read_all(s, st), asio::detached);
  out.write_completed = !wec;
  if (wec) out.problem = "the write failed after " + std::to_string(payload_bytes - left) + " bytes: " + wec.message();

  // The close frame (if not here yet), then our end of the stream, then the other side's end.
  co_await wait_for(*st, [&] { return st->close_code.has_value() || st->ended; }, deadline);
  error_code ignored;
  s.shutdown(tcp::socket::shutdown_send, ignored);
  co_await wait_for(*st, [&] { return st->ended; }, deadline);
  if (!st->ended) out.problem += (out.problem.empty() ? "" : "; ") + std::string("the other side did not end the connection");
  guard->cancel();
  s.close(ignored);
  co_await wait_for(*st, [&] { return st->ended; }, std::chrono::steady_clock::now() + 1s);
  out.close_code = st->close_code.value_or(0);
  if (!st->close_code) out.problem += (out.problem.empty() ? "" : "; ") + std::string("no close frame received");
  co_return out;
}

}  // namespace

oversized_exchange send_oversized_frame(std::uint16_t port, std::size_t payload_bytes, bool read_while_writing,
                                        std::chrono::milliseconds limit) {
  asio::io_context ioc;
  tcp::socket s(ioc);
  oversized_exchange out;
  error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) {
    out.problem = "connect: " + ec.message();
    return out;
  }
  const std::string upgrade =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  asio::write(s, asio::buffer(upgrade), ec);
  std::string response;
  if (!ec) asio::read_until(s, asio::dynamic_buffer(response), "\r\n\r\n", ec);
  if (ec || !response.starts_with("HTTP/1.1 101")) {
    out.problem = "the upgrade failed: " + (ec ? ec.message() : response.substr(0, response.find('\r')));
    return out;
  }
  // Bytes read past the response's end are the first frames (a heartbeat).
  std::string after = response.substr(response.find("\r\n\r\n") + 4);
  bool done = false;
  asio::co_spawn(ioc, exchange(s, payload_bytes, true, read_while_writing, limit, std::move(after)), [&](std::exception_ptr e, oversized_exchange r) {
    done = true;
    out = e ? oversized_exchange{true, false, 0, "the exchange threw"} : std::move(r);
  });
  ioc.run_for(limit + 2s);
  if (!done) out.problem = "the exchange did not end";
  return out;
}

asio::awaitable<oversized_exchange> write_oversized_frame(tcp::socket& s, std::size_t payload_bytes,
                                                          bool read_while_writing, std::chrono::milliseconds limit) {
  co_return co_await exchange(s, payload_bytes, false, read_while_writing, limit, {});
}

}  // namespace neolith::test
