// The TLS client settings for every upstream connection the proxy makes to a provider.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/result.h"

namespace shadowai {

// One per proxy, shared by all worker threads: an SSL_CTX is safe to share once it is set up, and
// only SSL_new() reads it afterwards. TLS 1.2 or newer, ALPN offering only "http/1.1" (the
// interception speaks HTTP/1.1 upstream), peer verification on; the host name is checked per
// connection (see upstream_connect.h). CA_BUNDLE empty: the system's default trust store;
// otherwise only the certificates in that PEM file are trusted.
Result<std::shared_ptr<boost::asio::ssl::context>> makeUpstreamTlsContext(const std::string& caBundle);

}  // namespace shadowai
