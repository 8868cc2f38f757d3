// A listening socket that shares its address and port with the other workers' listeners through
// SO_REUSEPORT: the kernel spreads incoming connections over them, so each worker accepts on its
// own io_context with no lock and no hand-off between threads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/result.h"
#include "net/network_namespace.h"

namespace shadowai {

// Binds ENDPOINT (IPv6 ones with IPV6_V6ONLY, so the IPv4 listener keeps IPv4) and listens, in
// NETNS (a workload's network namespace; nullptr: the calling thread's).
Result<boost::asio::ip::tcp::acceptor> openReusePortListener(boost::asio::io_context& io,
                                                             const boost::asio::ip::tcp::endpoint& endpoint,
                                                             const NetworkNamespace* netns = nullptr);

}  // namespace shadowai
