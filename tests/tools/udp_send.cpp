// udp_send HOST PORT [COUNT]: resolves HOST (getaddrinfo: /etc/hosts, then DNS) and sends COUNT
// datagrams to it from one UNCONNECTED UDP socket with sendto(), the way QUIC clients and
// resolvers send, so the cgroup sendmsg hooks (not connect) see them. Test client only.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: udp_send HOST PORT [COUNT]\n");
    return 2;
  }
  const int count = argc > 3 ? std::atoi(argv[3]) : 1;
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  if (int rc = getaddrinfo(argv[1], argv[2], &hints, &result); rc != 0) {
    std::fprintf(stderr, "udp_send: cannot resolve %s: %s\n", argv[1], gai_strerror(rc));
    return 1;
  }
  int fd = socket(result->ai_family, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::perror("udp_send: socket");
    freeaddrinfo(result);
    return 1;
  }
  // A QUIC Initial starts with a long-header byte; the content does not matter to the hooks.
  const unsigned char datagram[] = {0xc3, 0x00, 0x00, 0x00, 0x01};
  int failures = 0;
  for (int i = 0; i < count; ++i) {
    if (sendto(fd, datagram, sizeof(datagram), 0, result->ai_addr, result->ai_addrlen) < 0) ++failures;
  }
  close(fd);
  freeaddrinfo(result);
  if (failures) std::fprintf(stderr, "udp_send: %d of %d sends failed\n", failures, count);
  return failures ? 1 : 0;
}
