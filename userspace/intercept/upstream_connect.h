// Making one new upstream connection: TCP to the original destination (marked, so our own BPF
// hooks leave it alone), then a TLS handshake that verifies the certificate for the client's SNI.
#pragma once

#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <variant>

#include "intercept/upstream_connection.h"
#include "intercept/upstream_error.h"

namespace shadowai {

struct UpstreamConnectSettings {
  std::chrono::milliseconds connectTimeout{10'000};
  std::chrono::milliseconds handshakeTimeout{10'000};
  uint32_t mark = 0;  // SO_MARK of the socket; 0 leaves it unmarked (tests)
};

using UpstreamConnectResult = std::variant<std::unique_ptr<UpstreamConnection>, UpstreamError>;

// Connects to KEY.address:KEY.port and completes the handshake with CONTEXT (from
// makeUpstreamTlsContext). A host-name server name is sent as SNI and must match the certificate;
// an IP literal or an empty server name is not sent (SNI carries host names only) and the
// certificate must then name the IP address. The server may pick ALPN "http/1.1" or none.
// KEY and SETTINGS are taken by value: the coroutine may outlive the caller's copies.
// STARTED_CONNECT: a marked socket whose non-blocking connect to KEY's address was started already
// (see proxy/upstream_attempt.h); it is finished instead of connecting again.
boost::asio::awaitable<UpstreamConnectResult> connectUpstream(
    boost::asio::any_io_executor executor, boost::asio::ssl::context& context, UpstreamKey key,
    UpstreamConnectSettings settings, std::optional<boost::asio::ip::tcp::socket> startedConnect = std::nullopt);

}  // namespace shadowai
