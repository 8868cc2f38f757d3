// LocalCa: the host's own certificate authority, which signs the leaf certificates the proxy shows
// to enforced workloads. It lives in <stateDir>/ca/ (ca.key, ca.pem) and is made once: a workload
// or trust store that trusts it keeps working across restarts, so a CA is never silently replaced.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>

#include "common/result.h"
#include "tls/openssl_handles.h"

namespace shadowai {

class LocalCa {
 public:
  // Loads the CA from <stateDir>/ca/, or creates it there when neither file exists. Refuses a key
  // readable by group/others or owned by another user, a file that does not parse, a key that does
  // not match the certificate, and a directory holding only one of the two files.
  static Result<LocalCa> loadOrCreate(const std::string& stateDir);

  // <stateDir>/ca/ca.key and ca.pem, for messages and `shadowai ca export`.
  static std::string keyPath(const std::string& stateDir);
  static std::string certificatePath(const std::string& stateDir);

  const std::string& certificatePem() const { return certificatePem_; }
  X509* certificate() const { return certificate_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  // True when this loadOrCreate() made the CA; false when it loaded one that existed.
  bool created() const { return created_; }

 private:
  LocalCa(EvpPkeyPtr key, X509Ptr certificate, std::string certificatePem, bool created)
      : key_(std::move(key)),
        certificate_(std::move(certificate)),
        certificatePem_(std::move(certificatePem)),
        created_(created) {}

  EvpPkeyPtr key_;
  X509Ptr certificate_;
  std::string certificatePem_;
  bool created_ = false;
};

}  // namespace shadowai
