#include "splice/client_worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/fd.h"
#include "shared/bench_run.h"
#include "splice/scenario.h"
#include "splice/transfer.h"
#include "tls/openssl_error.h"
#include "tls/openssl_handles.h"

namespace shadowai::bench::splice {
namespace {

struct ClientConnection {
  Fd socket;
  SslPtr ssl;
};

// The client side, in the worker process. Blocking sockets with timeouts: one connection at a time
// is all a handshake or transfer needs, and it is how most clients call an API.
class ClientWorker {
 public:
  explicit ClientWorker(const std::string& caFile) : payload_(pseudoRandomBytes(kChunk)), buffer_(kChunk) {
    server_.sin_family = AF_INET;
    server_.sin_port = htons(kServerPort);
    ::inet_pton(AF_INET, kServerAddress, &server_.sin_addr);
    context_.reset(SSL_CTX_new(TLS_client_method()));
    if (!context_ || SSL_CTX_load_verify_locations(context_.get(), caFile.c_str(), nullptr) != 1) {
      setupError_ = openSslError("client TLS context").describe();
      return;
    }
    // The real server's certificate, for the real name: anything in between that did not splice
    // untouched fails the handshake.
    SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_min_proto_version(context_.get(), TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(context_.get(), SSL_SESS_CACHE_OFF);
    // Bulk reads take what the socket holds instead of one record header, then its body.
    SSL_CTX_set_read_ahead(context_.get(), 1);
    SSL_CTX_set_default_read_buffer_len(context_.get(), kChunk);
  }

  WorkerReply handle(const WorkerRequest& request) {
    WorkerReply reply;
    if (!setupError_.empty()) {
      copyText(reply.header.error, setupError_);
      return reply;
    }
    switch (request.command) {
      case WorkerCommand::kHandshakes:
        handshakes(std::min(request.count, kMaxSamplesPerRequest), reply);
        break;
      case WorkerCommand::kBulk:
        bulk(request.bytes, reply);
        break;
      case WorkerCommand::kOpenIdle:
        openIdle(request.count, reply);
        break;
      case WorkerCommand::kCloseIdle:
        for (auto& connection : idle_) closeConnection(connection);
        idle_.clear();
        break;
      case WorkerCommand::kQuit:
        break;
    }
    reply.header.held = static_cast<uint32_t>(idle_.size());
    return reply;
  }

 private:
  template <size_t N>
  static void copyText(char (&into)[N], const std::string& text) {
    std::snprintf(into, N, "%s", text.c_str());
  }

  void noteFailure(WorkerReply& reply, const Error& error) {
    ++reply.header.failed;
    if (reply.header.error[0] == '\0') copyText(reply.header.error, error.describe());
  }

  void noteSession(WorkerReply& reply, SSL* ssl) {
    if (reply.header.protocol[0] != '\0') return;
    copyText(reply.header.protocol, SSL_get_version(ssl));
    copyText(reply.header.cipher, SSL_get_cipher_name(ssl));
    const int group = static_cast<int>(SSL_get_negotiated_group(ssl));
    copyText(reply.header.group, group != 0 && OBJ_nid2sn(group) != nullptr ? OBJ_nid2sn(group) : "");
  }

  Result<ClientConnection> openConnection() {
    ClientConnection connection;
    connection.socket.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!connection.socket) return errnoError("socket");
    const int fd = connection.socket.get();
    const timeval timeout{kClientIoTimeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // as HTTP clients do
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&server_), sizeof(server_)) != 0) {
      return errnoError(std::string("connect to ") + kServerAddress + ":443");
    }
    connection.ssl.reset(SSL_new(context_.get()));
    SSL* ssl = connection.ssl.get();
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, kServerName) != 1 ||
        SSL_set1_host(ssl, kServerName) != 1) {
      return openSslError("cannot set up a TLS client");
    }
    if (SSL_connect(ssl) != 1) {
      const long verify = SSL_get_verify_result(ssl);
      const int saved = errno;
      Error error = openSslError(std::string("TLS handshake with ") + kServerName);
      if (verify != X509_V_OK) error.message += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
      if (error.message.find("unknown OpenSSL error") != std::string::npos) error.errnum = saved;
      return error;
    }
    return connection;
  }

  // close_notify, then close: what a client that is done sends. It does not wait for the server's.
  static void closeConnection(ClientConnection& connection) {
    if (connection.ssl) SSL_shutdown(connection.ssl.get());
    connection.ssl.reset();
    connection.socket.reset();
  }

  void handshakes(uint32_t count, WorkerReply& reply) {
    reply.samples.reserve(count);
    for (uint32_t i = 0; i < count && reply.header.failed < kMaxFailuresPerRequest; ++i) {
      const uint64_t started = nowNs();
      auto connection = openConnection();
      const uint64_t elapsed = nowNs() - started;
      if (!connection) {
        noteFailure(reply, connection.error());
        continue;
      }
      reply.samples.push_back(static_cast<uint32_t>(std::min<uint64_t>(elapsed, UINT32_MAX)));
      ++reply.header.succeeded;
      noteSession(reply, connection->ssl.get());
      closeConnection(*connection);
    }
    reply.header.samples = static_cast<uint32_t>(reply.samples.size());
  }

  Status writeAll(SSL* ssl, const uint8_t* data, size_t size) {
    while (size > 0) {
      const int written = SSL_write(ssl, data, static_cast<int>(std::min<size_t>(size, kChunk)));
      if (written <= 0) return openSslError("TLS write");
      data += written;
      size -= static_cast<size_t>(written);
    }
    return {};
  }

  Status readExactly(SSL* ssl, uint64_t size) {
    while (size > 0) {
      const int got = SSL_read(ssl, buffer_.data(), static_cast<int>(std::min<uint64_t>(size, buffer_.size())));
      if (got <= 0) return openSslError("TLS read");
      size -= static_cast<uint64_t>(got);
    }
    return {};
  }

  void bulk(uint64_t bytes, WorkerReply& reply) {
    auto connection = openConnection();
    if (!connection) return noteFailure(reply, connection.error());
    noteSession(reply, connection->ssl.get());
    SSL* ssl = connection->ssl.get();

    const auto upload = transferHeader(kUpload, bytes);
    uint64_t started = nowNs();
    Status status = writeAll(ssl, upload.data(), upload.size());
    for (uint64_t left = bytes; status && left > 0;) {
      const size_t size = static_cast<size_t>(std::min<uint64_t>(left, payload_.size()));
      status = writeAll(ssl, payload_.data(), size);
      left -= size;
    }
    if (status) status = readExactly(ssl, 1);  // the server's acknowledgement: it has every byte
    if (!status) return noteFailure(reply, status.error());
    reply.header.upNs = nowNs() - started;

    const auto download = transferHeader(kDownload, bytes);
    started = nowNs();
    status = writeAll(ssl, download.data(), download.size());
    if (status) status = readExactly(ssl, bytes);
    if (!status) return noteFailure(reply, status.error());
    reply.header.downNs = nowNs() - started;
    ++reply.header.succeeded;
    closeConnection(*connection);
  }

  void openIdle(uint32_t count, WorkerReply& reply) {
    for (uint32_t i = 0; i < count && reply.header.failed < kMaxFailuresPerRequest; ++i) {
      auto connection = openConnection();
      if (!connection) {
        noteFailure(reply, connection.error());
        continue;
      }
      noteSession(reply, connection->ssl.get());
      // Not measured, but thousands of idle clients need not each hold record buffers.
      SSL_set_mode(connection->ssl.get(), SSL_MODE_RELEASE_BUFFERS);
      idle_.push_back(std::move(*connection));
      ++reply.header.succeeded;
    }
  }

  sockaddr_in server_{};
  SslCtxPtr context_;
  std::string setupError_;
  const std::vector<uint8_t> payload_;
  std::vector<uint8_t> buffer_;
  std::vector<ClientConnection> idle_;
};

}  // namespace

std::vector<uint8_t> WorkerReply::encode() const { return encodeReply(header, {&samples}); }

Result<WorkerReply> WorkerReply::decode(const std::vector<uint8_t>& message) {
  auto header = decodeReplyHeader<WorkerReplyHeader>(message);
  if (!header) return header.error();
  WorkerReply reply;
  reply.header = *header;
  decodeReplySamples(message, sizeof(WorkerReplyHeader), {{reply.header.samples, &reply.samples}});
  return reply;
}

Result<Worker> startWorker(const std::string& caFile) {
  const size_t maxReplyBytes = sizeof(WorkerReplyHeader) + kMaxSamplesPerRequest * sizeof(uint32_t);
  // The client's TLS context is made in the worker, on its first request.
  return Worker::start(maxReplyBytes, kWorkerRequestTimeout, [caFile] { return std::make_shared<ClientWorker>(caFile); });
}

}  // namespace shadowai::bench::splice
