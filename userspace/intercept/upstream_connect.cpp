#include "intercept/upstream_connect.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string_view>

#include "proxy/proxy_sockets.h"
#include "proxy/upstream_attempt.h"

namespace shadowai {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kUpstreamReadBytes = 16 << 10;

UpstreamError tlsError(const UpstreamKey& key, const std::string& what) {
  return {UpstreamFailure::kTls, describeUpstream(key) + ": " + what};
}

// SNI and the name the certificate must carry. The server name comes from the workload's
// ClientHello: verifying against it (not against what the server offers) is what makes the
// interception as safe as the workload's own connection would have been.
Status setExpectedName(SSL* ssl, const UpstreamKey& key) {
  const bool isIpLiteral = key.serverName.empty() || IpAddress::parse(key.serverName).has_value();
  if (isIpLiteral) {
    const std::string ip = key.serverName.empty() ? key.address.toString() : key.serverName;
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip.c_str()) != 1) {
      return makeError("cannot verify the certificate against IP address " + ip);
    }
    return {};
  }
  if (SSL_set_tlsext_host_name(ssl, key.serverName.c_str()) != 1) {
    return makeError("cannot send server name '" + key.serverName + "'");
  }
  // "*.example.com" may match, "api*.example.com" never: what browsers and curl accept.
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, key.serverName.c_str()) != 1) {
    return makeError("cannot verify the certificate against server name '" + key.serverName + "'");
  }
  return {};
}

UpstreamError handshakeError(const UpstreamKey& key, SSL* ssl, const boost::system::error_code& error,
                             std::chrono::milliseconds timeout) {
  const long verifyResult = SSL_get_verify_result(ssl);
  if (error != beast::error::timeout && verifyResult != X509_V_OK) {
    std::string what = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verifyResult);
    if (verifyResult == X509_V_ERR_HOSTNAME_MISMATCH || verifyResult == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      const std::string expected = key.serverName.empty() ? key.address.toString() : key.serverName;
      what += " (the certificate is not for " + expected + ")";
    }
    return tlsError(key, what);
  }
  return classifyUpstreamError(key, error, "complete the TLS handshake", timeout);
}

// OpenSSL already refuses a protocol the client did not offer; this keeps the guarantee local.
Status checkAlpn(SSL* ssl) {
  const unsigned char* selected = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &selected, &length);
  if (length == 0) return {};
  const std::string_view protocol(reinterpret_cast<const char*>(selected), length);
  if (protocol == "http/1.1") return {};
  return makeError("chose ALPN protocol '" + std::string(protocol) + "', but only http/1.1 was offered");
}

}  // namespace

asio::awaitable<UpstreamConnectResult> connectUpstream(asio::any_io_executor executor, asio::ssl::context& context,
                                                       UpstreamKey key, UpstreamConnectSettings settings,
                                                       std::optional<tcp::socket> startedConnect) {
  const tcp::endpoint endpoint = toEndpoint(key.address, key.port);
  std::optional<beast::tcp_stream> connected;
  if (startedConnect) {
    // The proxy started this connect when it accepted the workload's connection: finish it.
    UpstreamAttempt attempt{std::move(startedConnect), ""};
    asio::steady_timer timer(executor);
    timer.expires_after(settings.connectTimeout);
    UpstreamAttemptOutcome outcome = co_await finishUpstreamConnect(attempt, timer);
    if (outcome.timedOut) {
      co_return UpstreamError{UpstreamFailure::kTimeout, describeUpstream(key) + " did not accept the connection within " +
                                                             formatTimeout(settings.connectTimeout)};
    }
    if (!outcome.connected) {
      co_return UpstreamError{UpstreamFailure::kConnect,
                              describeUpstream(key) + " failed to accept the connection: " + outcome.failure};
    }
    connected.emplace(std::move(*attempt.socket));
  } else {
    auto socket = openUpstreamSocket(executor, endpoint, settings.mark, key.netns.get());
    if (!socket) {
      co_return UpstreamError{UpstreamFailure::kConnect, describeUpstream(key) + ": " + socket.error().describe()};
    }
    connected.emplace(std::move(socket).value());
    connected->expires_after(settings.connectTimeout);
    auto [connectError] = co_await connected->async_connect(endpoint, kAwaitTuple);
    if (connectError) {
      co_return classifyUpstreamError(key, connectError, "accept the connection", settings.connectTimeout);
    }
  }
  beast::tcp_stream tcpStream(std::move(*connected));

  auto connection = std::make_unique<UpstreamConnection>(key, UpstreamStream(std::move(tcpStream), context));
  // Beast reads as much as the buffer has room for, at least 512 bytes: an empty buffer would take
  // an answer 512 bytes at a time, and relay it to the client in records as small.
  connection->buffer.reserve(kUpstreamReadBytes);
  SSL* ssl = connection->stream.native_handle();
  if (auto named = setExpectedName(ssl, key); !named) co_return tlsError(key, named.error().describe());
  beast::get_lowest_layer(connection->stream).expires_after(settings.handshakeTimeout);
  auto [handshakeFailure] = co_await connection->stream.async_handshake(asio::ssl::stream_base::client, kAwaitTuple);
  if (handshakeFailure) co_return handshakeError(key, ssl, handshakeFailure, settings.handshakeTimeout);
  if (auto alpn = checkAlpn(ssl); !alpn) co_return tlsError(key, alpn.error().describe());

  beast::get_lowest_layer(connection->stream).expires_never();
  co_return std::move(connection);
}

}  // namespace shadowai
