// connect_probe HOST PORT [MESSAGE]: connects over TCP (getaddrinfo: /etc/hosts, then DNS), prints
// "peer=ADDR:PORT" from getpeername(), sends MESSAGE (if any) plus a newline, and prints the first
// line it reads back as "reply=...". Exit 0 on success, 1 if the connect failed (printing
// "connect-error=ERRNO-NAME"). Test client only: shows what an application sees.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: connect_probe HOST PORT [MESSAGE]\n");
    return 2;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (int rc = getaddrinfo(argv[1], argv[2], &hints, &result); rc != 0) {
    std::printf("resolve-error=%s\n", gai_strerror(rc));
    return 1;
  }
  int fd = socket(result->ai_family, SOCK_STREAM, 0);
  if (connect(fd, result->ai_addr, result->ai_addrlen) != 0) {
    std::printf("connect-error=%s\n", strerrorname_np(errno));
    freeaddrinfo(result);
    return 1;
  }
  freeaddrinfo(result);
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length);
  char text[INET6_ADDRSTRLEN] = {};
  unsigned port = 0;
  if (peer.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&peer);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    port = ntohs(v4->sin_port);
    std::printf("peer=%s:%u\n", text, port);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&peer);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    port = ntohs(v6->sin6_port);
    std::printf("peer=[%s]:%u\n", text, port);
  }
  std::fflush(stdout);
  if (argc > 3) {
    std::string message = std::string(argv[3]) + "\n";
    // MSG_NOSIGNAL: a peer that closed at once (a refusing proxy) is a result to print, not SIGPIPE.
    if (send(fd, message.data(), message.size(), MSG_NOSIGNAL) < 0) {
      std::printf("write-error=%s\nreply=\n", strerrorname_np(errno));
      return 0;
    }
    std::string reply;
    char c;
    while (read(fd, &c, 1) == 1 && c != '\n') reply += c;
    std::printf("reply=%s\n", reply.c_str());
  }
  close(fd);
  return 0;
}
