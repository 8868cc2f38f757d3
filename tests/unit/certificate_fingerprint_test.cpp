#include "tls/certificate_fingerprint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "support/temp_dir.h"
#include "tls/local_ca.h"

namespace shadowai {
namespace {

TEST(CertificateFingerprintTest, UpperCaseHexPairsJoinedByColons) {
  const std::array<uint8_t, 4> bytes{0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(formatFingerprint(bytes), "00:0F:A5:FF");
  const std::array<uint8_t, 1> one{0x7e};
  EXPECT_EQ(formatFingerprint(one), "7E");
  EXPECT_EQ(formatFingerprint({}), "");
}

TEST(CertificateFingerprintTest, Sha256OfTheCaMatchesOpenSslCommandLine) {
  test::TempDir dir;
  auto ca = LocalCa::loadOrCreate(dir.path());
  ASSERT_TRUE(ca) << ca.error().describe();
  auto fingerprint = sha256Fingerprint(ca->certificate());
  ASSERT_TRUE(fingerprint) << fingerprint.error().describe();
  EXPECT_EQ(fingerprint->size(), 32u * 3 - 1);
  EXPECT_THAT(*fingerprint, ::testing::MatchesRegex("([0-9A-F]{2}:){31}[0-9A-F]{2}"));

  // The same text `openssl x509 -fingerprint -sha256` prints, so operators can compare by eye.
  const std::string command = "openssl x509 -noout -fingerprint -sha256 -in " + LocalCa::certificatePath(dir.path());
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[256] = {};
  const bool read = std::fgets(line, sizeof(line), pipe) != nullptr;
  const int status = ::pclose(pipe);
  if (!read || status != 0) GTEST_SKIP() << "openssl command line tool not available";
  std::string text(line);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  EXPECT_EQ(text.substr(text.find('=') + 1), *fingerprint);
}

TEST(CertificateFingerprintTest, NullCertificateIsAnError) {
  auto fingerprint = sha256Fingerprint(nullptr);
  ASSERT_FALSE(fingerprint);
  EXPECT_THAT(fingerprint.error().describe(), ::testing::HasSubstr("fingerprint"));
}

}  // namespace
}  // namespace shadowai
