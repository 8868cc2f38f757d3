// The client side of an intercepted connection: TLS (with our leaf certificate) over the accepted
// socket, the ClientHello the proxy peeked handed back first.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "intercept/prefixed_stream.h"

namespace shadowai {

using ClientStream = boost::beast::ssl_stream<PrefixedStream>;

// The TCP layer, for deadlines (expires_after) and for a reset.
inline boost::beast::tcp_stream& clientTcp(ClientStream& stream) { return stream.next_layer().next_layer(); }

}  // namespace shadowai
