// What a benchmark's own TLS server (intercept_bench's provider, splice_bench's bulk server) sets up
// before it serves: its certificate in a TLS context, TLS 1.2 at least, and its listening socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>

#include "common/result.h"
#include "support/test_ca.h"

namespace shadowai::bench {

Status useServerCertificate(boost::asio::ssl::context& tls, const test::LeafFiles& leaf);

// Binds ACCEPTOR to ADDRESS:PORT (IPv4) and listens with BACKLOG.
Status listenOn(boost::asio::ip::tcp::acceptor& acceptor, const char* address, uint16_t port, int backlog);

}  // namespace shadowai::bench
