// The loop every proxy listener runs: accept, hand the socket over, and keep going whatever one
// connection does.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>

#include "proxy/proxy_context.h"

namespace shadowai {

// Accepts on ACCEPTOR until it is closed, handing each socket to ADMIT (which returns at once).
// After an accept error other than an aborted handshake (EMFILE, ENFILE, ENOBUFS, ...) the pending
// connection stays queued and the listener stays readable: retrying at once would spin, so the loop
// backs off, doubling up to a second, until accepts succeed again; each error is counted
// (acceptErrors). An exception from ADMIT or from the accept is counted and logged
// (CONTEXT.escapedExceptions()) and the loop accepts the next connection, after the same back-off
// (an exception that comes back every time must not spin either): one connection's failure must
// not close the listener to all the others.
boost::asio::awaitable<void> acceptConnections(boost::asio::ip::tcp::acceptor& acceptor, ProxyContext& context,
                                               std::function<void(boost::asio::ip::tcp::socket)> admit);

}  // namespace shadowai
