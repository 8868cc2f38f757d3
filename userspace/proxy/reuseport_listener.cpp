#include "proxy/reuseport_listener.h"

#include <sys/socket.h>

#include <boost/asio/ip/v6_only.hpp>

namespace shadowai {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<tcp::acceptor> openReusePortListener(asio::io_context& io, const tcp::endpoint& endpoint,
                                            const NetworkNamespace* netns) {
  using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  const std::string where = "cannot listen on " + endpoint.address().to_string() + " port " +
                            std::to_string(endpoint.port()) + (netns ? " in " + netns->describe() : "");
  tcp::acceptor acceptor(io);
  boost::system::error_code error;
  if (netns) {
    auto opened = netns->openSocket(endpoint.protocol().family(), SOCK_STREAM);
    if (!opened) return makeError(where + ": " + opened.error().describe(), opened.error().errnum);
    acceptor.assign(endpoint.protocol(), opened->get(), error);
    if (!error) opened->release();
  } else {
    acceptor.open(endpoint.protocol(), error);
  }
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor.set_option(ReusePort(true), error);
  if (!error && endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return makeError(where + ": " + error.message(), error.value());
  return acceptor;
}

}  // namespace shadowai
