// One intercepted request, from the complete request the client sent to the last byte of the answer:
// the managed credential in place of the client's, the request re-originated to the original
// destination over a verified TLS connection from the worker's pool, and the provider's answer
// streamed back as it arrives (Server-Sent Events event by event), with bounded memory.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

#include "intercept/client_stream.h"
#include "intercept/intercept_services.h"
#include "intercept/intercept_target.h"
#include "intercept/intercepted_call.h"
#include "intercept/upstream_pool.h"
#include "mask/text_masker.h"
#include "proxy/connection_decision.h"
#include "proxy/proxy_counters.h"
#include "providers/provider_adapter.h"

namespace shadowai {

struct CallScope {
  const InterceptTarget& target;
  const ConnectionFacts& facts;  // the original destination, the SNI
  const InterceptServices& services;
  UpstreamPool& pool;
  ProxyCounterCells& counters;
  // The connect the proxy started at accept, if any and not used yet: the first call that needs a
  // new upstream connection takes it.
  std::optional<boost::asio::ip::tcp::socket>* earlyUpstream = nullptr;
  // Masks the answer's text (the call's MaskSession) when the policy says so; null: relayed as is.
  TextMasker* responseMasker = nullptr;
};

// Serves REQUEST (read whole) and fills CALL (outcome, status, credential, usage, bytes, timings).
// Refusals (403 for a workload without the managed key it must use, 502/504 when the provider cannot
// be reached) are written in ADAPTER's error shape. Returns true when the client connection can carry
// another request: CLIENT_KEEP_ALIVE and the answer went out whole.
boost::asio::awaitable<bool> forwardCall(ClientStream& client, boost::beast::http::request<boost::beast::http::string_body> request,
                                         bool clientKeepAlive, const ProviderAdapter& adapter, CallScope scope,
                                         InterceptedCall& call);

}  // namespace shadowai
