#include "common/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "common/fd.h"

namespace shadowai {

Result<std::string> readFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errnoError("cannot open " + path);
  std::string content;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("cannot read " + path);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

Status writeFileAtomic(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp";
  Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!fd) return errnoError("cannot create " + temporary);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::unlink(temporary.c_str());
      return makeError("cannot write " + temporary, saved);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    return makeError("cannot write " + temporary, saved);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    return makeError("cannot rename " + temporary + " to " + path, saved);
  }
  return {};
}

}  // namespace shadowai
