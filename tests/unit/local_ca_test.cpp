#include "tls/local_ca.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "support/temp_dir.h"
#include "tls/openssl_handles.h"

namespace shadowai {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string subjectEntry(X509* certificate, int nid) {
  char text[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), nid, text, sizeof(text));
  return text;
}

// Seconds from now to TIME (negative: in the past).
long secondsFromNow(const ASN1_TIME* time) {
  int days = 0, seconds = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, time), 1);
  return static_cast<long>(days) * 86400 + seconds;
}

class LocalCaTest : public ::testing::Test {
 protected:
  LocalCa create() {
    auto ca = LocalCa::loadOrCreate(dir_.path());
    EXPECT_TRUE(ca) << ca.error().describe();
    return std::move(ca).value();
  }
  std::string loadError() {
    auto ca = LocalCa::loadOrCreate(dir_.path());
    return ca ? "(loaded)" : ca.error().describe();
  }
  std::string keyPath() const { return LocalCa::keyPath(dir_.path()); }
  std::string certPath() const { return LocalCa::certificatePath(dir_.path()); }

  test::TempDir dir_;
};

TEST_F(LocalCaTest, CreatedOnceThenReloaded) {
  LocalCa first = create();
  LocalCa second = create();
  EXPECT_TRUE(first.created());
  EXPECT_FALSE(second.created());
  EXPECT_EQ(X509_cmp(first.certificate(), second.certificate()), 0);
  EXPECT_EQ(first.certificatePem(), second.certificatePem());
  EXPECT_EQ(EVP_PKEY_eq(first.key(), second.key()), 1);
  EXPECT_EQ(readFile(certPath()).value(), first.certificatePem());
  EXPECT_THAT(first.certificatePem(), StartsWith("-----BEGIN CERTIFICATE-----"));
}

TEST_F(LocalCaTest, KeyIsPkcs8AndOwnerOnly) {
  create();
  struct stat info {};
  ASSERT_EQ(::stat(keyPath().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((dir_.path() + "/ca").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 077, 0u);
  EXPECT_THAT(readFile(keyPath()).value(), StartsWith("-----BEGIN PRIVATE KEY-----"));
}

TEST_F(LocalCaTest, LooseKeyPermissionsRefused) {
  create();
  ASSERT_EQ(::chmod(keyPath().c_str(), 0640), 0);
  std::string error = loadError();
  EXPECT_THAT(error, HasSubstr(keyPath()));
  EXPECT_THAT(error, HasSubstr("readable by group or others (mode 0640)"));
  ASSERT_EQ(::chmod(keyPath().c_str(), 0604), 0);
  EXPECT_THAT(loadError(), HasSubstr("readable by group or others"));
}

TEST_F(LocalCaTest, CorruptKeyRefusedAndKept) {
  create();
  ASSERT_EQ(::chmod(keyPath().c_str(), 0600), 0);
  std::ofstream(keyPath(), std::ios::trunc) << "-----BEGIN PRIVATE KEY-----\nnot base64\n";
  std::string error = loadError();
  EXPECT_THAT(error, HasSubstr("CA key " + keyPath() + " is corrupt"));
  EXPECT_EQ(readFile(keyPath()).value(), "-----BEGIN PRIVATE KEY-----\nnot base64\n");
}

TEST_F(LocalCaTest, CorruptCertificateRefusedAndKept) {
  create();
  std::ofstream(certPath(), std::ios::trunc) << "garbage";
  EXPECT_THAT(loadError(), HasSubstr("CA certificate " + certPath() + " is corrupt"));
  EXPECT_EQ(readFile(certPath()).value(), "garbage");
}

TEST_F(LocalCaTest, CertificateOfAnotherKeyRefused) {
  LocalCa original = create();
  test::TempDir other;
  auto stranger = LocalCa::loadOrCreate(other.path());
  ASSERT_TRUE(stranger);
  ASSERT_TRUE(writeFileAtomic(certPath(), stranger->certificatePem()));
  EXPECT_THAT(loadError(), HasSubstr("does not belong to the key"));
}

TEST_F(LocalCaTest, OneFileWithoutTheOtherRefused) {
  create();
  const std::string pem = readFile(certPath()).value();
  ASSERT_EQ(::unlink(certPath().c_str()), 0);
  EXPECT_THAT(loadError(), HasSubstr("CA certificate " + certPath() + " is missing"));

  ASSERT_TRUE(writeFileAtomic(certPath(), pem));
  ASSERT_EQ(::unlink(keyPath().c_str()), 0);
  EXPECT_THAT(loadError(), HasSubstr("CA key " + keyPath() + " is missing"));
  EXPECT_EQ(readFile(certPath()).value(), pem);  // not replaced by a new CA
}

TEST_F(LocalCaTest, ConcurrentStartsMakeOneCa) {
  std::vector<std::string> pems(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < pems.size(); ++i) {
    threads.emplace_back([&, i] {
      auto ca = LocalCa::loadOrCreate(dir_.path());
      pems[i] = ca ? ca->certificatePem() : ca.error().describe();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& pem : pems) EXPECT_EQ(pem, pems[0]);
  EXPECT_EQ(readFile(certPath()).value(), pems[0]);
}

TEST_F(LocalCaTest, CaExtensionsExactlyAsRequired) {
  LocalCa ca = create();
  X509* cert = ca.certificate();

  EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(cert), 1);

  int critical = -1;
  BasicConstraintsPtr constraints(
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert, NID_basic_constraints, &critical, nullptr)));
  ASSERT_TRUE(constraints);
  EXPECT_EQ(critical, 1);
  EXPECT_NE(constraints->ca, 0);
  ASSERT_NE(constraints->pathlen, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(constraints->pathlen), 0);

  Asn1BitStringPtr usage(static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(cert, NID_key_usage, &critical, nullptr)));
  ASSERT_TRUE(usage);
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(X509_get_key_usage(cert), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));

  ASSERT_NE(X509_get0_subject_key_id(cert), nullptr);
  EXPECT_EQ(X509_get_extension_flags(cert) & EXFLAG_SS, static_cast<uint32_t>(EXFLAG_SS));
  EXPECT_EQ(X509_get_ext_count(cert), 3);  // nothing beyond the three required

  EXPECT_THAT(subjectEntry(cert, NID_commonName), StartsWith("shadowai local CA ("));
  EXPECT_LE(subjectEntry(cert, NID_commonName).size(), 64u);
  EXPECT_EQ(subjectEntry(cert, NID_organizationName), "shadowai");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)), 0);

  EXPECT_NEAR(secondsFromNow(X509_get0_notBefore(cert)), -3600, 60);
  EXPECT_NEAR(secondsFromNow(X509_get0_notAfter(cert)), 3653L * 86400, 86400);

  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  ASSERT_TRUE(serial);
  EXPECT_FALSE(BN_is_negative(serial.get()));
  EXPECT_GT(BN_num_bits(serial.get()), 64);  // 128 random bits; fewer than 64 leading zeros in all but 2^-64
  EXPECT_LE(BN_num_bits(serial.get()), 128);

  char group[64] = {};
  ASSERT_EQ(EVP_PKEY_get_group_name(ca.key(), group, sizeof(group), nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_verify(cert, ca.key()), 1);
}

}  // namespace
}  // namespace shadowai
