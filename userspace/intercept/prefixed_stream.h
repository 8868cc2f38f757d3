// PrefixedStream: a beast::tcp_stream whose first reads return bytes already taken off the socket.
// The proxy reads a client's ClientHello before it knows the connection is an LLM call; the TLS
// server that then terminates the connection must see the stream from its first byte, so the
// ClientHello is handed back to it through this layer (an SSL memory BIO would do the same, but
// Asio's ssl::stream owns its BIO pair and offers no way to pre-load it).
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstdint>
#include <utility>
#include <vector>

namespace shadowai {

class PrefixedStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using lowest_layer_type = next_layer_type::socket_type;  // what asio::ssl::stream asks for

  PrefixedStream(next_layer_type next, std::vector<uint8_t> prefix)
      : next_(std::move(next)), prefix_(std::move(prefix)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }
  lowest_layer_type& lowest_layer() noexcept { return next_.socket(); }
  const lowest_layer_type& lowest_layer() const noexcept { return next_.socket(); }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& target) {
          if (offset_ == prefix_.size()) {
            next_.async_read_some(target, std::move(handler));
            return;
          }
          const size_t copied = boost::asio::buffer_copy(
              target, boost::asio::buffer(prefix_.data() + offset_, prefix_.size() - offset_));
          offset_ += copied;
          if (offset_ == prefix_.size()) {
            std::vector<uint8_t>().swap(prefix_);  // done with it: do not keep it for the connection's life
            offset_ = 0;
          }
          // Never complete inline: the caller's handler may not expect to run inside this call.
          auto executor = boost::asio::get_associated_executor(handler, next_.get_executor());
          boost::asio::post(executor, [handler = std::move(handler), copied]() mutable {
            std::move(handler)(boost::system::error_code(), copied);
          });
        },
        token, buffers);
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return next_.async_write_some(buffers, std::forward<WriteToken>(token));
  }

 private:
  next_layer_type next_;
  std::vector<uint8_t> prefix_;
  size_t offset_ = 0;
};

}  // namespace shadowai
