// The answers shadowai gives in the provider's place: an HTTP response whose body is shaped like the
// provider's own errors, so the workload's SDK raises its ordinary API error with our reason.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/status.hpp>
#include <string>

#include "intercept/client_stream.h"
#include "providers/provider_adapter.h"

namespace shadowai {

// "shadowai refused this call: REASON" (every refusal says who answered).
std::string refusalMessage(std::string_view reason);

// Writes STATUS with ADAPTER's error body for refusalMessage(REASON). KEEP_ALIVE false: the
// response says Connection: close. Returns false when the client could not be written to.
boost::asio::awaitable<bool> writeRefusal(ClientStream& client, const ProviderAdapter& adapter, unsigned status,
                                          std::string_view reason, bool keepAlive);

}  // namespace shadowai
