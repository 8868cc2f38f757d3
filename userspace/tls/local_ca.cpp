#include "tls/local_ca.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "common/fd.h"
#include "common/file_util.h"
#include "tls/certificate_builder.h"
#include "tls/openssl_error.h"

namespace shadowai {
namespace {

using namespace std::chrono_literals;

// Long enough that nobody re-trusts a CA in a host's lifetime; the key never leaves the host.
constexpr auto kCaValidity = std::chrono::hours(24 * 3653);
// Clocks of hosts and containers drift; a certificate "not yet valid" by a minute fails hard.
constexpr auto kBackdate = 1h;
// X.509's upper bound for commonName (ub-common-name).
constexpr size_t kMaxCommonName = 64;

std::string caDirectory(const std::string& stateDir) { return stateDir + "/ca"; }

Status makeDirectory(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return errnoError("cannot create " + path);
  return {};
}

std::string commonName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof(host), "unknown host");
  std::string prefix = "shadowai local CA (";
  std::string name(host);
  size_t room = kMaxCommonName - prefix.size() - 1;
  if (name.size() > room) name.resize(room);
  return prefix + name + ")";
}

Result<std::string> encodeKey(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted: the file mode is the protection, as for sshd host keys.
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openSslError("cannot encode the CA key");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

Result<X509Ptr> issueCaCertificate(EVP_PKEY* key) {
  auto certificate = newCertificate();
  if (!certificate) return certificate.error();
  X509* cert = certificate->get();

  X509NamePtr name(X509_NAME_new());
  const std::string cn = commonName();
  if (!name ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("shadowai"), -1, -1, 0) != 1 ||
      X509_set_subject_name(cert, name.get()) != 1 || X509_set_issuer_name(cert, name.get()) != 1) {
    return openSslError("cannot set the CA name");
  }
  if (X509_set_pubkey(cert, key) != 1) return openSslError("cannot set the CA public key");

  const auto now = std::chrono::system_clock::now();
  if (auto status = setValidity(cert, now - kBackdate, now + kCaValidity); !status) return status.error();
  // pathlen:0 — this CA signs leaves only; a leaked leaf key can never mint further certificates.
  // Strict clients (Python 3.13's VERIFY_X509_STRICT) refuse CAs without the critical flags.
  for (const auto& [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                   std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                                   std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto status = addExtension(cert, cert, nid, value); !status) return status.error();
  }
  if (auto status = signCertificate(cert, key); !status) return status.error();
  return std::move(*certificate);
}

// The key file must be ours alone: anyone who reads it can impersonate every LLM provider to
// every enforced workload on this host.
Status checkKeyFileMode(int fd, const std::string& path) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return errnoError("cannot stat " + path);
  if (!S_ISREG(info.st_mode)) return makeError("CA key " + path + " is not a regular file");
  if (info.st_uid != ::geteuid()) {
    return makeError("CA key " + path + " is owned by uid " + std::to_string(info.st_uid) + ", not by uid " +
                     std::to_string(::geteuid()) + "; refusing to use it");
  }
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return makeError("CA key " + path + " is readable by group or others (mode " + mode + "); run chmod 600 " + path);
  }
  return {};
}

Result<std::string> readAll(int fd, const std::string& path) {
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoError("cannot read " + path);
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  OPENSSL_cleanse(buffer, sizeof(buffer));
  return content;
}

struct CaMaterial {
  EvpPkeyPtr key;
  X509Ptr certificate;
  std::string certificatePem;
};

Result<CaMaterial> loadExisting(const Fd& keyFd, const std::string& keyPath, const std::string& certPath) {
  if (auto status = checkKeyFileMode(keyFd.get(), keyPath); !status) return status.error();
  auto keyText = readAll(keyFd.get(), keyPath);
  if (!keyText) return keyText.error();
  BioPtr keyBio(BIO_new_mem_buf(keyText->data(), static_cast<int>(keyText->size())));
  // A callback that offers no passphrase: without one, OpenSSL would prompt on the terminal for an
  // encrypted key, and a daemon must fail instead.
  pem_password_cb* noPassphrase = [](char*, int, int, void*) { return 0; };
  EvpPkeyPtr key(keyBio ? PEM_read_bio_PrivateKey(keyBio.get(), nullptr, noPassphrase, nullptr) : nullptr);
  OPENSSL_cleanse(keyText->data(), keyText->size());
  if (!key) return openSslError("CA key " + keyPath + " is corrupt");

  auto certText = readFile(certPath);
  if (!certText) {
    if (certText.error().errnum == ENOENT) {
      return makeError("CA certificate " + certPath + " is missing though its key exists; restore it, or remove " +
                       keyPath + " to start a new CA");
    }
    return makeError("cannot read CA certificate " + certPath, certText.error().errnum);
  }
  BioPtr certBio(BIO_new_mem_buf(certText->data(), static_cast<int>(certText->size())));
  X509Ptr certificate(certBio ? PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!certificate) return openSslError("CA certificate " + certPath + " is corrupt");
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    ERR_clear_error();
    return makeError("CA certificate " + certPath + " does not belong to the key " + keyPath);
  }
  if (X509_check_ca(certificate.get()) == 0) {
    return makeError("CA certificate " + certPath + " is not a CA certificate");
  }
  return CaMaterial{std::move(key), std::move(certificate), std::move(*certText)};
}

// Writes the whole key into a file that did not exist. O_EXCL is the second guard after the lock:
// even a process that skips the lock cannot overwrite a CA key.
Status writeNewKey(const std::string& path, const std::string& pem) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return errnoError("cannot create CA key " + path);
  // umask can only take bits away from 0600, but an explicit mode says what we mean.
  bool written = ::fchmod(fd.get(), 0600) == 0;
  size_t offset = 0;
  while (written && offset < pem.size()) {
    ssize_t n = ::write(fd.get(), pem.data() + offset, pem.size() - offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) written = false;
    else offset += static_cast<size_t>(n);
  }
  if (written) written = ::fsync(fd.get()) == 0 && ::close(fd.release()) == 0;
  if (!written) {
    int saved = errno;
    ::unlink(path.c_str());  // a half-written key would make every later start fail as corrupt
    return makeError("cannot write CA key " + path, saved);
  }
  return {};
}

}  // namespace

std::string LocalCa::keyPath(const std::string& stateDir) { return caDirectory(stateDir) + "/ca.key"; }
std::string LocalCa::certificatePath(const std::string& stateDir) { return caDirectory(stateDir) + "/ca.pem"; }

Result<LocalCa> LocalCa::loadOrCreate(const std::string& stateDir) {
  const std::string directory = caDirectory(stateDir);
  const std::string keyFile = keyPath(stateDir);
  const std::string certFile = certificatePath(stateDir);
  if (auto status = makeDirectory(stateDir, 0755); !status) return status.error();
  if (auto status = makeDirectory(directory, 0700); !status) return status.error();

  // Two starts at once (the daemon and `shadowai ca init`) must end with one CA, and neither may
  // read the other's half-written files: the whole load-or-create runs under an exclusive lock.
  const std::string lockFile = directory + "/.lock";
  Fd lock(::open(lockFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock && errno == EROFS) {
    // A read-only state directory (a read-only root, a bind mount) can still serve the CA it holds:
    // flock works on a read-only descriptor, and where there is no lock file nobody can be writing a
    // CA next to us either. Creating one fails below, at the key, with its own error.
    lock = Fd(::open(lockFile.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!lock && errno != ENOENT) return errnoError("cannot open " + lockFile);
  } else if (!lock) {
    return errnoError("cannot open " + lockFile);
  }
  while (lock && ::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return errnoError("cannot lock " + lockFile);
  }

  Fd keyFd(::open(keyFile.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (keyFd) {
    auto loaded = loadExisting(keyFd, keyFile, certFile);
    if (!loaded) return loaded.error();
    return LocalCa(std::move(loaded->key), std::move(loaded->certificate), std::move(loaded->certificatePem),
                   false);
  }
  if (errno != ENOENT) return errnoError("cannot open CA key " + keyFile);
  if (::access(certFile.c_str(), F_OK) == 0) {
    // Trust stores may already hold this certificate; replacing it would break them silently.
    return makeError("CA key " + keyFile + " is missing though " + certFile +
                     " exists; restore the key, or remove the certificate to start a new CA");
  }

  auto key = generateP256Key();
  if (!key) return key.error();
  auto certificate = issueCaCertificate(key->get());
  if (!certificate) return certificate.error();
  auto certificatePem = certificateToPem(certificate->get());
  if (!certificatePem) return certificatePem.error();
  auto keyPem = encodeKey(key->get());
  if (!keyPem) return keyPem.error();

  Status keyWritten = writeNewKey(keyFile, *keyPem);
  OPENSSL_cleanse(keyPem->data(), keyPem->size());
  if (!keyWritten) return keyWritten.error();
  if (auto status = writeFileAtomic(certFile, *certificatePem); !status) {
    ::unlink(keyFile.c_str());  // a key without its certificate would refuse every later start
    return status.error();
  }
  return LocalCa(std::move(*key), std::move(*certificate), std::move(*certificatePem), true);
}

}  // namespace shadowai
