// hold_connections IPV4 PORT COUNT [tls SERVER_NAME]: opens COUNT TCP connections (non-blocking
// connects, so a full backlog does not stall it), prints "opened=N" once it has tried them all, then
// holds them until killed. Test client only: a workload trying to exhaust the proxy's descriptors.
// With "tls", each connection is opened one after another and completes a TLS handshake for
// SERVER_NAME (the certificate is not checked) before the next: a flood of idle intercepted
// connections, each holding the proxy's TLS state. "opened" counts the handshakes that completed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

int openPlain(const sockaddr_in& address, int count) {
  int opened = 0;
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) break;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0 || errno == EINPROGRESS) {
      ++opened;
    }
  }
  return opened;
}

int openTls(const sockaddr_in& address, int count, const char* serverName, std::vector<SSL*>& held) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) return 0;
  SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  int opened = 0;
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      std::fprintf(stderr, "connect %d: %s\n", i, std::strerror(errno));
      close(fd);
      continue;
    }
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, serverName);
    if (SSL_connect(ssl) == 1) {
      ++opened;
      held.push_back(ssl);
    } else {
      std::fprintf(stderr, "handshake %d failed\n", i);
      SSL_free(ssl);
      close(fd);
    }
  }
  return opened;
}

}  // namespace

int main(int argc, char** argv) {
  const bool tls = argc >= 6 && std::strcmp(argv[4], "tls") == 0;
  if (argc < 4 || (argc > 4 && !tls)) {
    std::fprintf(stderr, "usage: hold_connections IPV4 PORT COUNT [tls SERVER_NAME]\n");
    return 2;
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) return 2;
  const int count = std::atoi(argv[3]);
  std::vector<SSL*> held;
  const int opened = tls ? openTls(address, count, argv[5], held) : openPlain(address, count);
  std::printf("opened=%d\n", opened);
  std::fflush(stdout);
  pause();
  return 0;
}
