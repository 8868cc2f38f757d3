// UpstreamError: why the proxy could not talk to a provider, sorted by what the client should see
// (502 Bad Gateway for kConnect and kTls, 504 Gateway Timeout for kTimeout), with one line that
// names the upstream and the cause.
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "intercept/upstream_key.h"

namespace shadowai {

enum class UpstreamFailure {
  kConnect,  // refused, reset, unreachable, closed early, or no socket could be made
  kTimeout,  // a deadline passed: connect, handshake, or the caller's own (the response)
  kTls,      // handshake failure: certificate not trusted or not for this name, protocol error
};

struct UpstreamError {
  UpstreamFailure kind;
  std::string message;  // one line, e.g. "upstream api.openai.com (127.0.0.2:443): certificate
                        // verify failed: self-signed certificate"
};

// Classifies a failed operation on an upstream stream. ACTION is a verb phrase that completes
// "did not ..." and "failed to ...", e.g. "answer", "take the request". beast::error::timeout
// (a tcp_stream deadline) becomes kTimeout: "upstream X did not answer within 120 s"; an error from
// OpenSSL becomes kTls, anything else kConnect: "upstream X failed to answer: Connection reset by
// peer". Callers use it for their own reads and writes, so their messages match the pool's.
UpstreamError classifyUpstreamError(const UpstreamKey& key, const boost::system::error_code& error,
                                    std::string_view action, std::chrono::milliseconds timeout);

// "10 s" for whole seconds, else "250 ms".
std::string formatTimeout(std::chrono::milliseconds timeout);

}  // namespace shadowai
