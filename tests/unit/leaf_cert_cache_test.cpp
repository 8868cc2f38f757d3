#include "tls/leaf_cert_cache.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "tls/certificate_name.h"
#include "tls/openssl_handles.h"

namespace shadowai {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

long secondsFromNow(const ASN1_TIME* time) {
  int days = 0, seconds = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, time), 1);
  return static_cast<long>(days) * 86400 + seconds;
}

class LeafCertCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = LocalCa::loadOrCreate(dir_.path());
    ASSERT_TRUE(ca) << ca.error().describe();
    ca_ = std::make_unique<LocalCa>(std::move(ca).value());
  }

  std::shared_ptr<const LeafCert> leafFor(LeafCertCache& cache, std::string_view name) {
    auto leaf = cache.certificateFor(name);
    EXPECT_TRUE(leaf) << leaf.error().describe();
    return leaf ? *leaf : nullptr;
  }

  // X509_verify_cert against a store holding only our CA, as strict as Python 3.13's default.
  int verify(X509* leaf) {
    X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca_->certificate());
    X509_STORE_set_flags(store.get(), X509_V_FLAG_X509_STRICT);
    X509StoreCtxPtr context(X509_STORE_CTX_new());
    EXPECT_EQ(X509_STORE_CTX_init(context.get(), store.get(), leaf, nullptr), 1);
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
    if (X509_verify_cert(context.get()) == 1) return X509_V_OK;
    return X509_STORE_CTX_get_error(context.get());
  }

  test::TempDir dir_;
  std::unique_ptr<LocalCa> ca_;
};

TEST(CertificateName, AcceptsHostNamesAndIpLiterals) {
  auto host = parseCertificateName("API.OpenAI.com");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->text, "api.openai.com");
  EXPECT_FALSE(host->isIpAddress);
  for (const char* ip : {"127.0.0.1", "2001:db8::1", "::1"}) {
    auto parsed = parseCertificateName(ip);
    ASSERT_TRUE(parsed) << ip;
    EXPECT_TRUE(parsed->isIpAddress) << ip;
  }
  EXPECT_TRUE(parseCertificateName("a-b.x1.example"));
  EXPECT_TRUE(parseCertificateName(std::string(63, 'a') + ".com"));
}

TEST(CertificateName, RefusesAnythingElse) {
  const std::string longName = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                               std::string(62, 'd');  // 254 characters
  for (std::string bad : {std::string(""), std::string("."), std::string("a..b"), std::string("a.com."),
                          std::string("-a.com"), std::string("a-.com"), std::string("a b.com"),
                          std::string("a.com,DNS:evil.com"), std::string("a.com\nDNS:evil.com"),
                          std::string("*.example.com"), std::string("a_b.com"), std::string(64, 'a') + ".com",
                          std::string("evil.com\0.good.com", 18), std::string("caf\xc3\xa9.com"), longName}) {
    auto parsed = parseCertificateName(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_THAT(parsed.error().message, HasSubstr("refusing to mint a certificate"));
    }
  }
  EXPECT_EQ(longName.size(), 254u);
}

TEST_F(LeafCertCacheTest, LeafVerifiesStrictlyAgainstTheCa) {
  LeafCertCache cache(*ca_);
  auto leaf = leafFor(cache, "api.openai.com");
  ASSERT_TRUE(leaf);
  X509* cert = leaf->certificate.get();
  EXPECT_EQ(verify(cert), X509_V_OK);
  EXPECT_EQ(X509_check_host(cert, "api.openai.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert, "evil.openai.com", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_issued(ca_->certificate(), cert), X509_V_OK);
  EXPECT_EQ(X509_check_private_key(cert, leaf->key.get()), 1);
  ASSERT_EQ(leaf->chain.size(), 1u);
  EXPECT_EQ(X509_cmp(leaf->chain[0].get(), ca_->certificate()), 0);
}

TEST_F(LeafCertCacheTest, ExtensionsAndValidity) {
  LeafCertCache cache(*ca_);
  auto leaf = leafFor(cache, "API.Anthropic.com");
  ASSERT_TRUE(leaf);
  X509* cert = leaf->certificate.get();

  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "api.anthropic.com");
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca_->certificate())), 0);

  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(names);
  ASSERT_EQ(sk_GENERAL_NAME_num(names.get()), 1);
  const GENERAL_NAME* san = sk_GENERAL_NAME_value(names.get(), 0);
  ASSERT_EQ(san->type, GEN_DNS);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(san->d.dNSName)),
                        static_cast<size_t>(ASN1_STRING_length(san->d.dNSName))),
            "api.anthropic.com");

  int critical = -1;
  Asn1BitStringPtr usage(static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(cert, NID_key_usage, &critical, nullptr)));
  ASSERT_TRUE(usage);
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(X509_get_key_usage(cert), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(cert), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_check_ca(cert), 0);

  const ASN1_OCTET_STRING* authorityKeyId = X509_get0_authority_key_id(cert);
  ASSERT_NE(authorityKeyId, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(authorityKeyId, X509_get0_subject_key_id(ca_->certificate())), 0);

  EXPECT_NEAR(secondsFromNow(X509_get0_notBefore(cert)), -3600, 60);
  EXPECT_NEAR(secondsFromNow(X509_get0_notAfter(cert)), 24 * 3600, 60);

  char group[64] = {};
  ASSERT_EQ(EVP_PKEY_get_group_name(leaf->key.get(), group, sizeof(group), nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");
}

TEST_F(LeafCertCacheTest, IpLiteralGetsAnIpAddressSan) {
  LeafCertCache cache(*ca_);
  for (const char* ip : {"127.0.0.1", "2001:db8::1"}) {
    auto leaf = leafFor(cache, ip);
    ASSERT_TRUE(leaf);
    X509* cert = leaf->certificate.get();
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    ASSERT_TRUE(names);
    ASSERT_EQ(sk_GENERAL_NAME_num(names.get()), 1);
    EXPECT_EQ(sk_GENERAL_NAME_value(names.get(), 0)->type, GEN_IPADD) << ip;
    EXPECT_EQ(X509_check_ip_asc(cert, ip, 0), 1) << ip;
    EXPECT_EQ(verify(cert), X509_V_OK) << ip;
  }
}

TEST_F(LeafCertCacheTest, InvalidNameRefusedBeforeMinting) {
  LeafCertCache cache(*ca_);
  auto leaf = cache.certificateFor("a.com,DNS:evil.com");
  ASSERT_FALSE(leaf);
  EXPECT_THAT(leaf.error().message, HasSubstr("not a host name"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(LeafCertCacheTest, SameNameReturnsTheCachedLeafWhateverItsCase) {
  LeafCertCache cache(*ca_);
  auto first = leafFor(cache, "api.openai.com");
  auto second = leafFor(cache, "API.OPENAI.COM");
  EXPECT_EQ(first, second);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(LeafCertCacheTest, AllLeavesShareOneKeyButNotOneSerial) {
  LeafCertCache cache(*ca_);
  auto a = leafFor(cache, "a.example");
  auto b = leafFor(cache, "b.example");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(EVP_PKEY_eq(a->key.get(), b->key.get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(a->key.get(), ca_->key()), 0);
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(a->certificate.get()), X509_get0_serialNumber(b->certificate.get())), 0);
}

TEST_F(LeafCertCacheTest, LeastRecentlyUsedEvictedAtCapacity) {
  LeafCertCache cache(*ca_, 2);
  auto a = leafFor(cache, "a.example");
  auto b = leafFor(cache, "b.example");
  EXPECT_EQ(leafFor(cache, "a.example"), a);  // a is now the most recent
  auto c = leafFor(cache, "c.example");       // so b goes
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(leafFor(cache, "a.example"), a);
  EXPECT_EQ(leafFor(cache, "c.example"), c);
  auto bAgain = leafFor(cache, "b.example");  // minted again, and a (least recent) goes
  EXPECT_NE(bAgain, b);
  EXPECT_NE(leafFor(cache, "a.example"), a);
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(LeafCertCacheTest, ReMintedWithinAnHourOfExpiry) {
  LeafCertCache cache(*ca_, 16, 24h);
  const auto start = std::chrono::system_clock::now();
  auto now = start;
  cache.setClockForTest([&now] { return now; });

  auto first = leafFor(cache, "api.openai.com");
  now = start + 22h + 59min;
  EXPECT_EQ(leafFor(cache, "api.openai.com"), first);
  now = start + 23h + 1min;
  auto second = leafFor(cache, "api.openai.com");
  ASSERT_TRUE(first && second);
  EXPECT_NE(second, first);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::minutes>(second->notAfter - first->notAfter), 23h + 1min);
  // The clock drives the certificate itself, not only the cache bookkeeping.
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(first->certificate.get()),
                           X509_get0_notBefore(second->certificate.get())),
            1);
  EXPECT_EQ(days * 86400 + seconds, 23 * 3600 + 60);
  EXPECT_EQ(leafFor(cache, "api.openai.com"), second);
}

TEST_F(LeafCertCacheTest, ConcurrentCallersGetValidLeaves) {
  LeafCertCache cache(*ca_, 4);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<std::shared_ptr<const LeafCert>>> seen(6);
  for (size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        const std::string name = "host" + std::to_string((static_cast<int>(t) + i) % 8) + ".example";
        auto leaf = cache.certificateFor(name);
        if (!leaf || X509_check_host((*leaf)->certificate.get(), name.c_str(), 0, 0, nullptr) != 1) {
          ++failures;
          continue;
        }
        seen[t].push_back(*leaf);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(cache.size(), 4u);
  for (const auto& perThread : seen) {
    for (const auto& leaf : perThread) EXPECT_EQ(verify(leaf->certificate.get()), X509_V_OK);
  }
}

// A real TLS handshake over an in-memory BIO pair: the server presents the leaf (as the proxy will),
// the client verifies it with SSL_VERIFY_PEER and a host name check.
class HandshakeTest : public LeafCertCacheTest {
 protected:
  struct Outcome {
    bool completed = false;
    long verifyResult = -1;
    std::string echoed;
  };

  Outcome handshake(const LeafCert& leaf, bool clientTrustsCa, const std::string& expectedHost, int maxVersion) {
    SslCtxPtr serverContext(SSL_CTX_new(TLS_server_method()));
    SslCtxPtr clientContext(SSL_CTX_new(TLS_client_method()));
    EXPECT_TRUE(serverContext && clientContext);
    SSL_CTX_set_max_proto_version(clientContext.get(), maxVersion);
    // An empty store unless told otherwise: the test never depends on the host's trust store.
    if (clientTrustsCa) {
      EXPECT_EQ(X509_STORE_add_cert(SSL_CTX_get_cert_store(clientContext.get()), ca_->certificate()), 1);
    }
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(clientContext.get()), X509_V_FLAG_X509_STRICT);
    SSL_CTX_set_verify(clientContext.get(), SSL_VERIFY_PEER, nullptr);

    SslPtr server(SSL_new(serverContext.get()));
    SslPtr client(SSL_new(clientContext.get()));
    EXPECT_TRUE(leaf.applyTo(server.get()));
    EXPECT_EQ(SSL_check_private_key(server.get()), 1);
    EXPECT_EQ(SSL_set1_host(client.get(), expectedHost.c_str()), 1);
    SSL_set_tlsext_host_name(client.get(), expectedHost.c_str());

    BIO* clientBio = nullptr;
    BIO* serverBio = nullptr;
    EXPECT_EQ(BIO_new_bio_pair(&clientBio, 0, &serverBio, 0), 1);
    SSL_set_bio(client.get(), clientBio, clientBio);
    SSL_set_bio(server.get(), serverBio, serverBio);
    SSL_set_connect_state(client.get());
    SSL_set_accept_state(server.get());

    Outcome outcome;
    bool clientDone = false, serverDone = false, failed = false;
    for (int round = 0; round < 20 && !(clientDone && serverDone) && !failed; ++round) {
      for (auto [ssl, done] : {std::pair{client.get(), &clientDone}, std::pair{server.get(), &serverDone}}) {
        if (*done) continue;
        int rc = SSL_do_handshake(ssl);
        if (rc == 1) {
          *done = true;
          continue;
        }
        int error = SSL_get_error(ssl, rc);
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) failed = true;
      }
    }
    ERR_clear_error();
    outcome.verifyResult = SSL_get_verify_result(client.get());
    outcome.completed = clientDone && serverDone && !failed;
    if (outcome.completed) {
      EXPECT_EQ(SSL_write(client.get(), "ping", 4), 4);
      char buffer[8] = {};
      int n = SSL_read(server.get(), buffer, sizeof(buffer));
      if (n > 0) outcome.echoed.assign(buffer, static_cast<size_t>(n));
    }
    return outcome;
  }
};

TEST_F(HandshakeTest, ClientTrustingTheCaConnects) {
  LeafCertCache cache(*ca_);
  auto leaf = leafFor(cache, "api.openai.com");
  ASSERT_TRUE(leaf);
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    Outcome outcome = handshake(*leaf, true, "api.openai.com", version);
    EXPECT_TRUE(outcome.completed) << version;
    EXPECT_EQ(outcome.verifyResult, X509_V_OK) << X509_verify_cert_error_string(outcome.verifyResult);
    EXPECT_EQ(outcome.echoed, "ping");
  }
}

TEST_F(HandshakeTest, ClientNotTrustingTheCaFails) {
  LeafCertCache cache(*ca_);
  auto leaf = leafFor(cache, "api.openai.com");
  ASSERT_TRUE(leaf);
  Outcome outcome = handshake(*leaf, false, "api.openai.com", TLS1_3_VERSION);
  EXPECT_FALSE(outcome.completed);
  EXPECT_NE(outcome.verifyResult, X509_V_OK);
}

TEST_F(HandshakeTest, LeafForAnotherNameFails) {
  LeafCertCache cache(*ca_);
  auto leaf = leafFor(cache, "api.anthropic.com");
  ASSERT_TRUE(leaf);
  Outcome outcome = handshake(*leaf, true, "api.openai.com", TLS1_3_VERSION);
  EXPECT_FALSE(outcome.completed);
  EXPECT_EQ(outcome.verifyResult, X509_V_ERR_HOSTNAME_MISMATCH);
}

}  // namespace
}  // namespace shadowai
