// The host's system trust store: where `shadowai ca install` puts the local CA so that programs
// using the system's CA bundle (OpenSSL's and GnuTLS's defaults: curl, wget, Go, most distribution
// packages) trust the leaves the proxy shows. Two families are supported, told apart by their tool
// and anchor directory:
//   Debian, Ubuntu:       /usr/local/share/ca-certificates/shadowai-local-ca.crt + update-ca-certificates
//   RHEL, Fedora, Rocky:  /etc/pki/ca-trust/source/anchors/shadowai-local-ca.pem + update-ca-trust extract
#pragma once

#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace shadowai {

enum class TrustStoreFamily {
  kDebian,  // ca-certificates' update-ca-certificates
  kRedHat,  // p11-kit's update-ca-trust
};

std::string_view toString(TrustStoreFamily family);  // "debian", "redhat"

struct TrustStore {
  TrustStoreFamily family = TrustStoreFamily::kDebian;
  std::string anchorFile;                   // where the CA's PEM is copied
  std::vector<std::string> refreshCommand;  // argv; argv[0] is an absolute path
  std::string bundleFile;                   // the PEM bundle of every trusted CA the command rebuilds
};

// Finds the trust store of the host whose root directory is ROOT ("/" on a real host, a fake tree
// in tests; every path in the result starts with it). A family counts when its tool is an
// executable file (in /usr/sbin, /usr/bin, /sbin or /bin) and its anchor directory exists; Debian's
// is tried first. The error names what was looked for.
Result<TrustStore> detectTrustStore(const std::string& root = "/");

// True when the PEM bundle at BUNDLE_PATH holds CERTIFICATE (byte-identical DER), however the
// bundle is laid out (comments between blocks, TRUSTED CERTIFICATE blocks from p11-kit).
Result<bool> bundleContains(const std::string& bundlePath, X509* certificate);

struct TrustStoreInstall {
  bool anchorChanged = false;  // false: the anchor file held this certificate already
};

// Copies CERTIFICATE_PEM (the PEM of CERTIFICATE) to STORE's anchor file (mode 0644, replaced
// atomically), runs its refresh command, and checks that the bundle now holds the certificate.
// A failing command is one line: "TOOL failed (exit status N): <its last line of output>".
Result<TrustStoreInstall> installInTrustStore(const TrustStore& store, const std::string& certificatePem,
                                              X509* certificate);

}  // namespace shadowai
