// TlsListener: what the test bed's TLS servers (TlsTestServer, FakeProvider) share: a listening
// socket on a loopback address, a TLS context with a TestCa leaf, one thread running the accepts,
// the handshakes and each connection's handler, and the counts of connections and failed
// handshakes. The server decides what happens on a connection once its handshake is done.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "support/tls_server.h"

namespace shadowai::test {

using TlsServerStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// A connection whose handshake completed.
struct TlsConnection {
  size_t index = 0;           // 0, 1, ... in the order accepted
  std::string sni;            // what the client sent in its ClientHello, "" for none
  std::string clientAddress;  // the TCP peer: who connected (a proxy, or the client itself)
};

class TlsListener {
 public:
  // Runs on the listener's thread; the listener sends close_notify when it returns.
  using Handler = std::function<boost::asio::awaitable<void>(TlsServerStream&, const TlsConnection&)>;
  // Notified (on the listener's thread) after each failed handshake.
  using FailureObserver = std::function<void()>;

  // WHO names the server in errors ("FakeProvider"). Binds ADDRESS:PORT (0: an ephemeral port),
  // loads the certificate chain and key, and starts serving.
  static Result<std::unique_ptr<TlsListener>> start(const std::string& who, const std::string& address, uint16_t port,
                                                    const std::string& certPath, const std::string& keyPath,
                                                    Handler handler, FailureObserver onFailedHandshake = {});
  // Stops serving and joins the thread; connections still open are dropped.
  ~TlsListener();
  TlsListener(const TlsListener&) = delete;
  TlsListener& operator=(const TlsListener&) = delete;

  uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }
  boost::asio::io_context& io() { return io_; }
  size_t connectionCount() const { return connections_.load(); }
  size_t failedHandshakes() const { return handshakeFailures_.load(); }

 private:
  TlsListener(std::string address, Handler handler, FailureObserver onFailedHandshake);
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket, size_t index);

  const std::string address_;
  const Handler handler_;
  const FailureObserver onFailedHandshake_;
  uint16_t port_ = 0;
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> handshakeFailures_{0};
  // Declared before io_ and the acceptor so it outlives the connections io_ destroys on shutdown.
  boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_server};
  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
};

// What a client sent, as the servers record it.
RecordedRequest recordRequest(const boost::beast::http::request<boost::beast::http::string_body>& message,
                              const TlsConnection& connection);

}  // namespace shadowai::test
