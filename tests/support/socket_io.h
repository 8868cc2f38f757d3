// Blocking socket reads and writes for tests that drive a connection byte by byte (the proxy's
// relay and splice tests). Header-only so unit tests can use it without the support library.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <string>

namespace shadowai::test {

inline bool sendAll(int fd, const std::string& data) {
  size_t offset = 0;
  while (offset < data.size()) {
    ssize_t sent = ::send(fd, data.data() + offset, data.size() - offset, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    offset += static_cast<size_t>(sent);
  }
  return true;
}

struct ReadResult {
  std::string data;
  int error = 0;  // errno of the read that ended it; 0 for end of stream
};

// Reads until end of stream or an error (a reset shows as error ECONNRESET).
inline ReadResult readUntilEnd(int fd) {
  ReadResult result;
  char buffer[65536];
  for (;;) {
    ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got > 0) {
      result.data.append(buffer, static_cast<size_t>(got));
      continue;
    }
    result.error = got == 0 ? 0 : errno;
    return result;
  }
}

// Reads SIZE bytes, or fewer if the stream ends first.
inline std::string readExactly(int fd, size_t size) {
  std::string data(size, '\0');
  size_t offset = 0;
  while (offset < size) {
    ssize_t got = ::recv(fd, data.data() + offset, size - offset, 0);
    if (got <= 0) break;
    offset += static_cast<size_t>(got);
  }
  data.resize(offset);
  return data;
}

}  // namespace shadowai::test
