#include "support/tls_server.h"

#include <openssl/ssl.h>
#include <strings.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace shadowai::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Long enough for a slow CI machine, short enough that a stuck client cannot hold a test for minutes.
constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr uint64_t kMaxRequestBody = 64ull << 20;

}  // namespace

std::string RecordedRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (::strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return {};
}

struct TlsTestServer::Impl {
  explicit Impl(TlsServerOptions serverOptions) : options(std::move(serverOptions)) {}

  TlsServerOptions options;
  // Declared before io and acceptor so it outlives the connections io destroys on shutdown.
  asio::ssl::context tls{asio::ssl::context::tls_server};
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  uint16_t port = 0;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  size_t connections = 0;
  size_t handshakeFailures = 0;
  std::vector<std::string> snis;
  std::vector<RecordedRequest> requests;

  asio::awaitable<void> acceptLoop() {
    for (;;) {
      boost::system::error_code error;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, error));
      if (error == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (error) continue;
      {
        std::lock_guard lock(mutex);
        ++connections;
      }
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code peerError;
    const std::string clientAddress = socket.remote_endpoint(peerError).address().to_string();
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls);
    beast::get_lowest_layer(stream).expires_after(kIoTimeout);
    boost::system::error_code error;
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      std::lock_guard lock(mutex);
      ++handshakeFailures;
      changed.notify_all();
      co_return;
    }
    const char* servername = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    std::string sni = servername != nullptr ? servername : "";
    {
      std::lock_guard lock(mutex);
      snis.push_back(sni);
      changed.notify_all();
    }
    if (options.mode == TlsServerMode::kEcho) {
      co_await echo(stream);
    } else {
      co_await answerOneRequest(stream, std::move(sni), clientAddress);
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, error));
  }

  asio::awaitable<void> echo(beast::ssl_stream<beast::tcp_stream>& stream) {
    char buffer[16384];
    boost::system::error_code error;
    for (;;) {
      beast::get_lowest_layer(stream).expires_after(kIoTimeout);
      size_t got = co_await stream.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
      if (error) co_return;
      co_await asio::async_write(stream, asio::buffer(buffer, got), asio::redirect_error(asio::use_awaitable, error));
      if (error) co_return;
    }
  }

  asio::awaitable<void> answerOneRequest(beast::ssl_stream<beast::tcp_stream>& stream, std::string sni,
                                         std::string clientAddress) {
    boost::system::error_code error;
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return;
    const auto& message = parser.get();
    RecordedRequest request;
    request.sni = std::move(sni);
    request.clientAddress = std::move(clientAddress);
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
    request.body = message.body();

    TlsResponse reply = options.handler ? options.handler(request) : options.response;
    {
      std::lock_guard lock(mutex);
      requests.push_back(std::move(request));
      changed.notify_all();
    }
    http::response<http::string_body> response{static_cast<http::status>(reply.status), message.version()};
    response.set(http::field::server, "shadowai-test");
    response.set(http::field::content_type, reply.contentType);
    for (const auto& [name, value] : reply.headers) response.insert(name, value);
    response.body() = std::move(reply.body);
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, error));
  }
};

Result<TlsTestServer> TlsTestServer::start(const std::string& address, uint16_t port, const std::string& certPath,
                                           const std::string& keyPath) {
  TlsServerOptions options;
  options.address = address;
  options.port = port;
  options.certPath = certPath;
  options.keyPath = keyPath;
  return start(std::move(options));
}

Result<TlsTestServer> TlsTestServer::start(TlsServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  boost::system::error_code error;
  auto address = asio::ip::make_address(impl->options.address, error);
  if (error) return makeError("TlsTestServer: not an IP address: " + impl->options.address);

  impl->tls.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                        asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  impl->tls.use_certificate_chain_file(impl->options.certPath, error);
  if (error) return makeError("TlsTestServer: cannot load " + impl->options.certPath + ": " + error.message());
  impl->tls.use_private_key_file(impl->options.keyPath, asio::ssl::context::pem, error);
  if (error) return makeError("TlsTestServer: cannot load " + impl->options.keyPath + ": " + error.message());

  const tcp::endpoint endpoint(address, impl->options.port);
  const std::string where = impl->options.address + " port " + std::to_string(impl->options.port);
  impl->acceptor.open(endpoint.protocol(), error);
  if (!error) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error && address.is_v6()) impl->acceptor.set_option(asio::ip::v6_only(true), error);
  if (!error) impl->acceptor.bind(endpoint, error);
  if (!error) impl->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return makeError("TlsTestServer: cannot listen on " + where + ": " + error.message());
  impl->port = impl->acceptor.local_endpoint().port();

  asio::co_spawn(impl->io, impl->acceptLoop(), asio::detached);
  impl->thread = std::thread([raw = impl.get()] { raw->io.run(); });
  return TlsTestServer(std::move(impl));
}

TlsTestServer::TlsTestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TlsTestServer::TlsTestServer(TlsTestServer&&) noexcept = default;
TlsTestServer& TlsTestServer::operator=(TlsTestServer&&) noexcept = default;

TlsTestServer::~TlsTestServer() {
  if (!impl_) return;  // moved from
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // Impl's members go next: the acceptor, then io_context (destroying the connections still in
  // flight), then the TLS context they used.
}

uint16_t TlsTestServer::port() const { return impl_->port; }
const std::string& TlsTestServer::address() const { return impl_->options.address; }

size_t TlsTestServer::connectionCount() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections;
}

size_t TlsTestServer::failedHandshakes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->handshakeFailures;
}

std::vector<std::string> TlsTestServer::sniSeen() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->snis;
}

std::vector<RecordedRequest> TlsTestServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

bool TlsTestServer::waitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->requests.size() >= count; });
}

}  // namespace shadowai::test
