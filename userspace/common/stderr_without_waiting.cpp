#include "common/stderr_without_waiting.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace shadowai {

bool writeStderrLineWithoutWaiting(std::string_view line) {
  std::string text;
  text.reserve(line.size() + 1);
  text.append(line).push_back('\n');
  // One call for the whole line, so lines of several threads never interleave. MSG_DONTWAIT makes
  // only this send non-blocking, not the socket that everyone else writes to.
  ssize_t written = ::send(STDERR_FILENO, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (written < 0 && errno == ENOTSOCK) written = ::write(STDERR_FILENO, text.data(), text.size());
  return written == static_cast<ssize_t>(text.size());
}

}  // namespace shadowai
