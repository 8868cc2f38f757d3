// The socket-level details of the proxy: address conversions between IpAddress and Asio, the
// marked upstream socket, and closing with a reset.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "common/result.h"
#include "net/ip_address.h"
#include "net/network_namespace.h"

namespace shadowai {

// IPv4-mapped addresses become IPv4 endpoints: a v4 destination is reached over a v4 socket.
boost::asio::ip::tcp::endpoint toEndpoint(const IpAddress& address, uint16_t port);
IpAddress fromAsioAddress(const boost::asio::ip::address& address);

// An open, unconnected TCP socket of the family of ENDPOINT, with SO_MARK = MARK set before any
// connect (0: left unmarked) so the redirect hooks recognise the proxy's own connects, and
// TCP_NODELAY (the relay forwards segments as they come; Nagle would only add delay).
// NETNS: made inside that network namespace (the workload's); nullptr: the proxy's own.
Result<boost::asio::ip::tcp::socket> openUpstreamSocket(const boost::asio::any_io_executor& executor,
                                                        const boost::asio::ip::tcp::endpoint& endpoint,
                                                        uint32_t mark, const NetworkNamespace* netns = nullptr);

// Closes with SO_LINGER 0, so the peer gets a reset: a refused or broken connection then reads as
// an error at the other end, never as a clean end of stream that could pass for a whole reply.
void resetAndClose(boost::asio::ip::tcp::socket& socket);

}  // namespace shadowai
