// TlsTestServer: a TLS server posing as a provider host (api.openai.com on 127.0.0.2:443, say) with
// a certificate from the TestCa. It records what each client sent (SNI, HTTP request) and answers with
// a canned response, or echoes raw bytes after the handshake. It runs on its own thread and stops
// and joins in its destructor. Movable (the running state lives behind a pointer that does not move).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace shadowai::test {

struct RecordedRequest {
  std::string sni;  // what the client sent in its ClientHello, "" for none
  std::string clientAddress;  // the TCP peer's address: who connected (a proxy, or the client itself)
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received
  std::string body;

  // The first header named NAME (case-insensitive), "" when absent.
  std::string header(const std::string& name) const;
};

struct TlsResponse {
  unsigned status = 200;
  std::string contentType = "application/json";
  std::string body = R"({"id":"shadowai-test","object":"test.response"})";
  std::vector<std::pair<std::string, std::string>> headers;
};

enum class TlsServerMode {
  kHttp,  // read one HTTP/1.1 request, answer, close
  kEcho,  // after the handshake, send back every byte received until the client closes
};

struct TlsServerOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 text
  uint16_t port = 0;                   // 0: an ephemeral port, see port()
  std::string certPath;
  std::string keyPath;
  TlsServerMode mode = TlsServerMode::kHttp;
  TlsResponse response;
  // Optional: computes the response per request instead (runs on the server's thread).
  std::function<TlsResponse(const RecordedRequest&)> handler;
};

class TlsTestServer {
 public:
  // Binds and starts serving; fails if the address/port cannot be bound or the cert/key do not load.
  static Result<TlsTestServer> start(TlsServerOptions options);
  // The common case: the default HTTP response.
  static Result<TlsTestServer> start(const std::string& address, uint16_t port, const std::string& certPath,
                                     const std::string& keyPath);
  ~TlsTestServer();
  TlsTestServer(TlsTestServer&&) noexcept;
  TlsTestServer& operator=(TlsTestServer&&) noexcept;

  uint16_t port() const;
  const std::string& address() const;

  size_t connectionCount() const;   // TCP connections accepted
  size_t failedHandshakes() const;  // of those, how many never completed TLS
  std::vector<std::string> sniSeen() const;  // per completed handshake, in order
  std::vector<RecordedRequest> requests() const;
  // Waits until at least COUNT requests were recorded; false on timeout.
  bool waitForRequests(size_t count, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  explicit TlsTestServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shadowai::test
