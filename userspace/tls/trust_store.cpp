#include "tls/trust_store.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/file_util.h"
#include "common/run_command.h"
#include "tls/openssl_error.h"
#include "tls/openssl_handles.h"

namespace shadowai {
namespace {

constexpr const char* kToolDirectories[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};

struct Family {
  TrustStoreFamily family;
  const char* tool;
  std::vector<std::string> toolArguments;
  const char* anchorDirectory;
  const char* anchorName;
  const char* bundleFile;
  const char* distributions;
};

const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      // update-ca-certificates only picks up files named *.crt.
      {TrustStoreFamily::kDebian, "update-ca-certificates", {}, "/usr/local/share/ca-certificates",
       "shadowai-local-ca.crt", "/etc/ssl/certs/ca-certificates.crt", "Debian, Ubuntu"},
      {TrustStoreFamily::kRedHat, "update-ca-trust", {"extract"}, "/etc/pki/ca-trust/source/anchors",
       "shadowai-local-ca.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "RHEL, Fedora"},
  };
  return all;
}

std::string underRoot(const std::string& root, const std::string& path) {
  std::string prefix = root;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return prefix + path;
}

bool isExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool isDirectory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string findTool(const std::string& root, const char* tool) {
  for (const char* directory : kToolDirectories) {
    std::string path = underRoot(root, std::string(directory) + "/" + tool);
    if (isExecutableFile(path)) return path;
  }
  return "";
}

std::string baseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string_view toString(TrustStoreFamily family) {
  switch (family) {
    case TrustStoreFamily::kDebian: return "debian";
    case TrustStoreFamily::kRedHat: return "redhat";
  }
  return "unknown";
}

Result<TrustStore> detectTrustStore(const std::string& root) {
  std::string lookedFor;
  for (const Family& family : families()) {
    const std::string tool = findTool(root, family.tool);
    const std::string anchors = underRoot(root, family.anchorDirectory);
    if (!tool.empty() && isDirectory(anchors)) {
      TrustStore store;
      store.family = family.family;
      store.anchorFile = anchors + "/" + family.anchorName;
      store.refreshCommand.push_back(tool);
      store.refreshCommand.insert(store.refreshCommand.end(), family.toolArguments.begin(), family.toolArguments.end());
      store.bundleFile = underRoot(root, family.bundleFile);
      return store;
    }
    if (!lookedFor.empty()) lookedFor += " nor ";
    lookedFor += std::string(family.tool) + " with " + family.anchorDirectory + " (" + family.distributions + ")";
  }
  return makeError("no supported system trust store on this host: found neither " + lookedFor +
                   "; install the ca-certificates package, or add the CA to your trust store by hand");
}

Result<bool> bundleContains(const std::string& bundlePath, X509* certificate) {
  unsigned char* der = nullptr;
  const int derLength = i2d_X509(certificate, &der);
  if (derLength <= 0) return openSslError("cannot encode the CA certificate");
  std::string wanted(reinterpret_cast<const char*>(der), static_cast<size_t>(derLength));
  OPENSSL_free(der);

  auto text = readFile(bundlePath);
  if (!text) return makeError("cannot read " + bundlePath, text.error().errnum);
  BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  if (!bio) return openSslError("cannot read " + bundlePath);
  bool found = false;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) break;  // the end, or junk after the last block
    // A TRUSTED CERTIFICATE is the certificate's DER followed by OpenSSL's trust settings.
    const size_t size = static_cast<size_t>(length);
    const bool plain = std::strcmp(name, PEM_STRING_X509) == 0 && size == wanted.size();
    const bool trusted = std::strcmp(name, PEM_STRING_X509_TRUSTED) == 0 && size >= wanted.size();
    found = (plain || trusted) && std::memcmp(data, wanted.data(), wanted.size()) == 0;
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (found) break;
  }
  ERR_clear_error();  // PEM_read_bio queues "no start line" at the end of the bundle
  return found;
}

Result<TrustStoreInstall> installInTrustStore(const TrustStore& store, const std::string& certificatePem,
                                              X509* certificate) {
  TrustStoreInstall result;
  auto existing = readFile(store.anchorFile);
  result.anchorChanged = !existing || *existing != certificatePem;
  if (result.anchorChanged) {
    if (auto written = writeFileAtomic(store.anchorFile, certificatePem); !written) return written.error();
    // Anyone may read a CA certificate; tools that read anchors as another user rely on it.
    if (::chmod(store.anchorFile.c_str(), 0644) != 0) return errnoError("cannot chmod " + store.anchorFile);
  }

  const std::string tool = baseName(store.refreshCommand.at(0));
  auto outcome = runCommand(store.refreshCommand);
  if (!outcome) return outcome.error();
  if (!outcome->succeeded()) {
    std::string line = tool + " failed (" + outcome->describeStatus() + ")";
    const std::string last = outcome->lastOutputLine();
    if (!last.empty()) line += ": " + last;
    return makeError(line);
  }

  auto contains = bundleContains(store.bundleFile, certificate);
  if (!contains) return makeError(tool + " ran, but " + contains.error().describe());
  if (!*contains) {
    return makeError(tool + " ran, but " + store.bundleFile + " does not contain the CA from " + store.anchorFile);
  }
  return result;
}

}  // namespace shadowai
