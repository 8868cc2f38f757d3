#include "support/tls_server.h"

#include <openssl/ssl.h>
#include <strings.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <mutex>

#include "support/tls_listener.h"

namespace shadowai::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

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
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<std::string> snis;
  std::vector<RecordedRequest> requests;
  // Last: destroyed first, so its thread is joined before the state above goes.
  std::unique_ptr<TlsListener> listener;

  asio::awaitable<void> serve(TlsServerStream& stream, const TlsConnection& connection) {
    {
      std::lock_guard lock(mutex);
      snis.push_back(connection.sni);
      changed.notify_all();
    }
    if (options.mode == TlsServerMode::kEcho) {
      co_await echo(stream);
    } else {
      co_await answerOneRequest(stream, connection);
    }
  }

  asio::awaitable<void> echo(TlsServerStream& stream) {
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

  asio::awaitable<void> answerOneRequest(TlsServerStream& stream, const TlsConnection& connection) {
    boost::system::error_code error;
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return;
    const auto& message = parser.get();
    RecordedRequest request = recordRequest(message, connection);

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
  const TlsServerOptions& settings = impl->options;
  auto listener = TlsListener::start(
      "TlsTestServer", settings.address, settings.port, settings.certPath, settings.keyPath,
      [raw = impl.get()](TlsServerStream& stream, const TlsConnection& connection) { return raw->serve(stream, connection); });
  if (!listener) return listener.error();
  impl->listener = std::move(*listener);
  return TlsTestServer(std::move(impl));
}

TlsTestServer::TlsTestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TlsTestServer::TlsTestServer(TlsTestServer&&) noexcept = default;
TlsTestServer& TlsTestServer::operator=(TlsTestServer&&) noexcept = default;

TlsTestServer::~TlsTestServer() = default;

uint16_t TlsTestServer::port() const { return impl_->listener->port(); }
const std::string& TlsTestServer::address() const { return impl_->options.address; }

size_t TlsTestServer::connectionCount() const { return impl_->listener->connectionCount(); }

size_t TlsTestServer::failedHandshakes() const { return impl_->listener->failedHandshakes(); }

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
