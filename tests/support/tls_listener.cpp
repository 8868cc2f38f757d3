#include "support/tls_listener.h"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace shadowai::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// Long enough for a slow CI machine, short enough that a stuck client cannot hold a test for minutes.
constexpr auto kHandshakeTimeout = std::chrono::seconds(30);
constexpr auto kShutdownTimeout = std::chrono::seconds(2);

}  // namespace

TlsListener::TlsListener(std::string address, Handler handler, FailureObserver onFailedHandshake)
    : address_(std::move(address)), handler_(std::move(handler)), onFailedHandshake_(std::move(onFailedHandshake)) {}

Result<std::unique_ptr<TlsListener>> TlsListener::start(const std::string& who, const std::string& address,
                                                        uint16_t port, const std::string& certPath,
                                                        const std::string& keyPath, Handler handler,
                                                        FailureObserver onFailedHandshake) {
  std::unique_ptr<TlsListener> listener(new TlsListener(address, std::move(handler), std::move(onFailedHandshake)));
  boost::system::error_code error;
  auto ip = asio::ip::make_address(address, error);
  if (error) return makeError(who + ": not an IP address: " + address);

  listener->tls_.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                             asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  listener->tls_.use_certificate_chain_file(certPath, error);
  if (error) return makeError(who + ": cannot load " + certPath + ": " + error.message());
  listener->tls_.use_private_key_file(keyPath, asio::ssl::context::pem, error);
  if (error) return makeError(who + ": cannot load " + keyPath + ": " + error.message());

  const tcp::endpoint endpoint(ip, port);
  tcp::acceptor& acceptor = listener->acceptor_;
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error && ip.is_v6()) acceptor.set_option(asio::ip::v6_only(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return makeError(who + ": cannot listen on " + address + " port " + std::to_string(port) + ": " + error.message());
  }
  listener->port_ = acceptor.local_endpoint().port();

  asio::co_spawn(listener->io_, listener->acceptLoop(), asio::detached);
  listener->thread_ = std::thread([raw = listener.get()] { raw->io_.run(); });
  return listener;
}

TlsListener::~TlsListener() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
  // The members go next: the acceptor, then io_context (destroying the connections still in
  // flight), then the TLS context they used.
}

asio::awaitable<void> TlsListener::acceptLoop() {
  for (;;) {
    boost::system::error_code error;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, error));
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (error) continue;
    const size_t index = connections_.fetch_add(1);
    asio::co_spawn(io_, serve(std::move(socket), index), asio::detached);
  }
}

asio::awaitable<void> TlsListener::serve(tcp::socket socket, size_t index) {
  TlsConnection connection;
  connection.index = index;
  boost::system::error_code peerError;
  connection.clientAddress = socket.remote_endpoint(peerError).address().to_string();
  TlsServerStream stream(std::move(socket), tls_);
  beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
  boost::system::error_code error;
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, error));
  if (error) {
    handshakeFailures_.fetch_add(1);
    if (onFailedHandshake_) onFailedHandshake_();
    co_return;
  }
  const char* servername = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
  connection.sni = servername != nullptr ? servername : "";
  co_await handler_(stream, connection);
  beast::get_lowest_layer(stream).expires_after(kShutdownTimeout);
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, error));
}

RecordedRequest recordRequest(const boost::beast::http::request<boost::beast::http::string_body>& message,
                              const TlsConnection& connection) {
  RecordedRequest request;
  request.sni = connection.sni;
  request.clientAddress = connection.clientAddress;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
  request.body = message.body();
  return request;
}

}  // namespace shadowai::test
