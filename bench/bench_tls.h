// TLS material a benchmark makes for one run: a throw-away CA and one server certificate it signs,
// written as PEM files that vanish with the run's private directory. Header-only because
// bench/CMakeLists.txt builds each *_bench.cpp on its own.
#pragma once

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "common/result.h"
#include "tls/openssl_handles.h"

namespace shadowai::bench {

// "what: <first OpenSSL error>"; the rest of the queue is dropped so it cannot confuse the next call.
inline Error opensslError(const std::string& what) {
  char text[256] = "no OpenSSL error queued";
  if (unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return makeError(what + ": " + text);
}

struct TlsFiles {
  std::string caCert;    // what clients trust
  std::string leafCert;  // the server's certificate (signed by the CA)
  std::string leafKey;
};

namespace detail {

constexpr long kOneHour = 60 * 60;
constexpr long kOneDay = 24 * kOneHour;

// A certificate for SUBJECT_CN holding KEY, valid from an hour ago (clock skew between the steps of a
// run does not matter) for LIFETIME seconds, with a random serial.
inline Result<X509Ptr> newCertificate(const std::string& subjectCn, EVP_PKEY* key, long lifetime) {
  X509Ptr certificate(X509_new());
  BignumPtr serial(BN_new());
  if (!certificate || !serial) return opensslError("out of memory");
  if (X509_set_version(certificate.get(), X509_VERSION_3) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -kOneHour) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()), lifetime) == nullptr ||
      X509_NAME_add_entry_by_txt(X509_get_subject_name(certificate.get()), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(subjectCn.c_str()), -1, -1, 0) != 1 ||
      X509_set_pubkey(certificate.get(), key) != 1) {
    return opensslError("cannot fill in certificate " + subjectCn);
  }
  return certificate;
}

// ISSUER signs SUBJECT (both the same certificate for the self-signed CA).
inline Status addExtensions(X509* issuer, X509* subject, std::initializer_list<std::pair<int, std::string>> extensions) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, subject, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
    if (!extension || X509_add_ext(subject, extension.get(), -1) != 1) {
      return opensslError(std::string("cannot add extension ") + OBJ_nid2sn(nid) + "=" + value);
    }
  }
  return {};
}

inline Status writeCertificate(const std::string& path, X509* certificate) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) return opensslError("cannot write " + path);
  return {};
}

inline Status writeKey(const std::string& path, EVP_PKEY* key) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return opensslError("cannot write " + path);
  }
  return {};
}

}  // namespace detail

// Writes DIRECTORY/ca.pem, DIRECTORY/server.pem and DIRECTORY/server-key.pem: a CA and a serverAuth
// certificate for SERVER_NAME (EC P-256 keys, as most public servers use today, so the handshake
// costs what a real one does). The CA's key is never written: nothing else is ever signed.
inline Result<TlsFiles> makeThrowawayPki(const std::string& directory, const std::string& serverName) {
  EvpPkeyPtr caKey(EVP_EC_gen("P-256"));
  EvpPkeyPtr serverKey(EVP_EC_gen("P-256"));
  if (!caKey || !serverKey) return opensslError("cannot generate an EC P-256 key");

  auto ca = detail::newCertificate("shadowai bench CA", caKey.get(), detail::kOneDay);
  if (!ca) return ca.error();
  X509* caCertificate = ca->get();
  if (X509_set_issuer_name(caCertificate, X509_get_subject_name(caCertificate)) != 1) {
    return opensslError("cannot set the CA's issuer");
  }
  if (auto added = detail::addExtensions(caCertificate, caCertificate,
                                         {{NID_basic_constraints, "critical,CA:TRUE"},
                                          {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                          {NID_subject_key_identifier, "hash"}});
      !added) {
    return added.error();
  }
  if (X509_sign(caCertificate, caKey.get(), EVP_sha256()) == 0) return opensslError("cannot self-sign the CA");

  auto server = detail::newCertificate(serverName, serverKey.get(), detail::kOneDay);
  if (!server) return server.error();
  X509* serverCertificate = server->get();
  if (X509_set_issuer_name(serverCertificate, X509_get_subject_name(caCertificate)) != 1) {
    return opensslError("cannot set the server certificate's issuer");
  }
  if (auto added = detail::addExtensions(caCertificate, serverCertificate,
                                         {{NID_basic_constraints, "critical,CA:FALSE"},
                                          {NID_key_usage, "critical,digitalSignature"},
                                          {NID_ext_key_usage, "serverAuth"},
                                          {NID_subject_key_identifier, "hash"},
                                          {NID_authority_key_identifier, "keyid:always"},
                                          {NID_subject_alt_name, "DNS:" + serverName}});
      !added) {
    return added.error();
  }
  if (X509_sign(serverCertificate, caKey.get(), EVP_sha256()) == 0) {
    return opensslError("cannot sign the server certificate");
  }

  TlsFiles files{directory + "/ca.pem", directory + "/server.pem", directory + "/server-key.pem"};
  if (auto written = detail::writeCertificate(files.caCert, caCertificate); !written) return written.error();
  if (auto written = detail::writeCertificate(files.leafCert, serverCertificate); !written) return written.error();
  if (auto written = detail::writeKey(files.leafKey, serverKey.get()); !written) return written.error();
  return files;
}

}  // namespace shadowai::bench
