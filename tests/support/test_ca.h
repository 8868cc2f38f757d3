// TestCa: a throw-away certificate authority for the TLS servers that pose as provider hosts. Clients
// in a test trust it through ca.pem (curl --cacert, SSL_CERT_FILE); nothing is installed system-wide.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/temp_dir.h"
#include "tls/openssl_handles.h"

namespace shadowai::test {

struct LeafFiles {
  std::string certPath;  // PEM certificate
  std::string keyPath;   // PEM private key (PKCS#8, unencrypted)
};

class TestCa {
 public:
  // A CA (CN "shadowai test CA", EC P-256) with ca.pem and ca-key.pem in a TempDir it owns...
  static Result<TestCa> create();
  // ... or in DIRECTORY, which the caller owns.
  static Result<TestCa> create(const std::string& directory);

  // A serverAuth leaf for DNS NAMES and IP addresses IPS (both become subjectAltName entries),
  // valid from an hour ago for a day, signed by this CA.
  Result<LeafFiles> issueLeaf(const std::vector<std::string>& names, const std::vector<std::string>& ips = {});

  const std::string& certPath() const { return certPath_; }
  const std::string& keyPath() const { return keyPath_; }
  const std::string& directory() const { return directory_; }

 private:
  TestCa() = default;
  static Result<TestCa> createIn(std::string directory, std::unique_ptr<TempDir> owned);

  std::unique_ptr<TempDir> ownedDir_;
  std::string directory_;
  std::string certPath_;
  std::string keyPath_;
  EvpPkeyPtr key_;
  X509Ptr certificate_;
  int leafCount_ = 0;
};

}  // namespace shadowai::test
