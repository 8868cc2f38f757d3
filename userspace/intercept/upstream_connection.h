// UpstreamConnection: one verified TLS connection to a provider, owned by whoever holds it: the
// pool while idle, one request's handler while in use.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <utility>

#include "intercept/upstream_key.h"

namespace shadowai {

using UpstreamStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct UpstreamConnection {
  UpstreamConnection(UpstreamKey connectionKey, UpstreamStream connectionStream)
      : key(std::move(connectionKey)), stream(std::move(connectionStream)) {}

  UpstreamKey key;
  // Handed out with no deadline set: the holder sets one per operation with
  // boost::beast::get_lowest_layer(stream).expires_after(...).
  UpstreamStream stream;
  // The read buffer for Beast's http::async_read. Bytes left in it after a whole response mean the
  // server sent more than it was asked for, so such a connection is not pooled again.
  boost::beast::flat_buffer buffer;
  // True when this connection served a request before. The server may have closed it at the very
  // moment it was handed out; a request that failed on a reused connection before any byte of the
  // response arrived is safe to retry once on a new one.
  bool reused = false;
  std::chrono::steady_clock::time_point idleSince;
};

}  // namespace shadowai
