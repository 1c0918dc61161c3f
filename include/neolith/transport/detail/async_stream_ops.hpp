// The AsyncReadStream / AsyncWriteStream members of a stream layer, written once: a layer
// derives from async_stream_ops<Layer> and provides `initiate_read` and `initiate_write`
// (function objects built from a `Layer*`, called with the handler and the buffers), which
// it may keep private by befriending async_stream_ops<Layer>.
#ifndef NEOLITH_TRANSPORT_DETAIL_ASYNC_STREAM_OPS_HPP
#define NEOLITH_TRANSPORT_DETAIL_ASYNC_STREAM_OPS_HPP

#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>

namespace neolith::detail {

template <class Layer>
class async_stream_ops {
 public:
  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
        typename Layer::initiate_read{static_cast<Layer*>(this)}, token, buffers);
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
        typename Layer::initiate_write{static_cast<Layer*>(this)}, token, buffers);
  }

 protected:
  async_stream_ops() = default;
  ~async_stream_ops() = default;
};

}  // namespace neolith::detail

#endif  // NEOLITH_TRANSPORT_DETAIL_ASYNC_STREAM_OPS_HPP
