// The host's pseudonym key file: created once with 32 bytes from the OpenSSL RNG, mode 0600, and
// refused afterwards if anyone else could read it or it is not exactly a key.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/fd.h"
#include "mask/mask_session.h"

namespace shadowai {

namespace {

constexpr size_t kKeySize = 32;

Status createKeyFile(const std::string& path) {
  std::array<unsigned char, kKeySize> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return makeError("cannot create pseudonym key " + path + ": the OpenSSL random generator failed");
  }
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return errnoError("cannot create pseudonym key " + path);
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error error = errnoError("cannot write pseudonym key " + path);
      ::unlink(path.c_str());
      return error;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return errnoError("cannot write pseudonym key " + path);
  return {};
}

}  // namespace

PseudonymKey PseudonymKey::fromBytes(const std::array<unsigned char, 32>& bytes) {
  PseudonymKey key;
  key.bytes_ = bytes;
  return key;
}

Result<PseudonymKey> PseudonymKey::loadOrCreate(const std::filesystem::path& file) {
  const std::string path = file.string();
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && errno == ENOENT) {
    // O_EXCL: of two daemons racing here one creates, the other reads what it wrote.
    Status created = createKeyFile(path);
    if (!created && created.error().errnum != EEXIST) return created.error();
    fd.reset(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd) return errnoError("cannot open pseudonym key " + path);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return errnoError("cannot stat pseudonym key " + path);
  if (!S_ISREG(info.st_mode)) return makeError("pseudonym key " + path + " is not a regular file");
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return makeError("pseudonym key " + path + " has mode " + mode + "; it must be readable by its owner only (chmod 600)");
  }
  if (static_cast<size_t>(info.st_size) != kKeySize) {
    return makeError("pseudonym key " + path + " must hold exactly 32 bytes, it holds " +
                     std::to_string(info.st_size));
  }
  std::array<unsigned char, kKeySize> bytes{};
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoError("cannot read pseudonym key " + path);
    if (n == 0) return makeError("pseudonym key " + path + " shrank while being read");
    got += static_cast<size_t>(n);
  }
  return fromBytes(bytes);
}

}  // namespace shadowai
