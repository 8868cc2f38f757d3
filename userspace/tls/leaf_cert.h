// LeafCert: a server certificate for one name, signed by the local CA, with everything an SSL
// needs to present it. Immutable once minted, so proxy workers share one through a shared_ptr.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <vector>

#include "common/result.h"
#include "tls/certificate_name.h"
#include "tls/local_ca.h"
#include "tls/openssl_handles.h"

namespace shadowai {

struct LeafCert {
  X509Ptr certificate;
  EvpPkeyPtr key;
  // Sent after the leaf: the local CA. Clients that trust it have it already, but sending it lets
  // a client that pins it somewhere other than its store (or logs the chain) see the whole path.
  std::vector<X509Ptr> chain;
  std::chrono::system_clock::time_point notAfter;

  // Puts certificate, key and chain into SSL (SSL_use_certificate, SSL_use_PrivateKey,
  // SSL_add1_chain_cert). SSL takes its own references; this LeafCert may go away afterwards.
  Status applyTo(SSL* ssl) const;
};

// Mints a leaf for NAME signed by CA, with public key LEAF_KEY (up-referenced, not copied):
// CN and SAN = NAME (iPAddress for an IP literal), keyUsage=critical,digitalSignature,
// extendedKeyUsage=serverAuth, subject and authority key identifiers; valid from NOW - 1 h to
// NOW + VALIDITY, cut at the CA's own notAfter so a leaf never outlives its issuer.
Result<LeafCert> mintLeafCert(const LocalCa& ca, EVP_PKEY* leafKey, const CertificateName& name,
                              std::chrono::system_clock::time_point now, std::chrono::seconds validity);

}  // namespace shadowai
