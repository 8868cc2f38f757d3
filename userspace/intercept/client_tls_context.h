// The TLS server side of an interception: what enforced workloads see in place of the provider.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "common/result.h"

namespace shadowai {

// One context for every worker (certificates are set per connection, from the LeafCertCache, since
// the proxy knows the SNI before the handshake starts). TLS 1.2 and 1.3; ALPN: "http/1.1" when the
// client offers it, else no ALPN at all (a client that offers only h2 then falls back to HTTP/1.1
// or gives up: HTTP/2 is not served yet).
Result<std::shared_ptr<boost::asio::ssl::context>> makeClientFacingTlsContext();

}  // namespace shadowai
