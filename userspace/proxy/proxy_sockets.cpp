#include "proxy/proxy_sockets.h"

#include <sys/socket.h>

namespace shadowai {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

tcp::endpoint toEndpoint(const IpAddress& address, uint16_t port) {
  const auto& bytes = address.bytes();
  if (address.isV4()) {
    asio::ip::address_v4::bytes_type v4{bytes[12], bytes[13], bytes[14], bytes[15]};
    return {asio::ip::address_v4(v4), port};
  }
  asio::ip::address_v6::bytes_type v6;
  std::copy(bytes.begin(), bytes.end(), v6.begin());
  return {asio::ip::address_v6(v6), port};
}

IpAddress fromAsioAddress(const asio::ip::address& address) {
  if (address.is_v4()) {
    auto v4 = address.to_v4().to_bytes();
    return IpAddress::fromV4(v4.data());
  }
  auto v6 = address.to_v6().to_bytes();
  return IpAddress::fromV6(v6.data());
}

Result<tcp::socket> openUpstreamSocket(const asio::any_io_executor& executor, const tcp::endpoint& endpoint,
                                       uint32_t mark, const NetworkNamespace* netns) {
  tcp::socket socket(executor);
  boost::system::error_code error;
  if (netns) {
    auto opened = netns->openSocket(endpoint.protocol().family(), SOCK_STREAM);
    if (!opened) return makeError("cannot open an upstream socket: " + opened.error().describe(), opened.error().errnum);
    socket.assign(endpoint.protocol(), opened->get(), error);
    if (!error) opened->release();
  } else {
    socket.open(endpoint.protocol(), error);
  }
  if (error) return makeError("cannot open an upstream socket: " + error.message(), error.value());
  if (mark != 0 &&
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
    return errnoError("cannot set SO_MARK on the upstream socket (needs CAP_NET_ADMIN)");
  }
  socket.set_option(tcp::no_delay(true), error);
  return socket;
}

void resetAndClose(tcp::socket& socket) {
  boost::system::error_code ignored;
  if (!socket.is_open()) return;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

}  // namespace shadowai
