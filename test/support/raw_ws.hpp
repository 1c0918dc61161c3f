// A raw WebSocket peer for the size limit: it writes ONE data frame far above the other side's
// maximum message size (a header, then the payload in chunks, as fast as the socket takes it)
// while reading what comes back, and reports the close frame it got. Independent of Beast's
// stream, so the other side's teardown is seen as a plain socket sees it: a close frame that a
// reset overtakes is lost, as it is for any real peer.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace neolith::test {

using namespace std::chrono_literals;

/// What the raw peer saw while writing its frame.
struct oversized_exchange {
  bool upgraded = false;           ///< the WebSocket upgrade succeeded (client side)
  bool write_completed = false;    ///< the whole frame was written
  std::uint16_t close_code = 0;    ///< the code of the close frame received (0: none)
  std::string problem;             ///< what went wrong, for the test's message
};

/// Client side: connects to 127.0.0.1:`port`, upgrades, writes one text frame of
/// `payload_bytes` (masked), reading while it writes or only once the frame is written (as a
/// blocking peer does), and closes once the close frame came (or `limit`).
oversized_exchange send_oversized_frame(std::uint16_t port, std::size_t payload_bytes, bool read_while_writing,
                                        std::chrono::milliseconds limit = 20s);

/// Server side, on an upgraded socket (e.g. `ws->next_layer().socket()` of a scripted peer):
/// writes one unmasked text frame of `payload_bytes` (reading as above), until the client's
/// close frame came and the client closed (or `limit`).
boost::asio::awaitable<oversized_exchange> write_oversized_frame(boost::asio::ip::tcp::socket& s,
                                                                 std::size_t payload_bytes, bool read_while_writing,
                                                                 std::chrono::milliseconds limit = 20s);

}  // namespace neolith::test
