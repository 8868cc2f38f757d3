#include "tls/trust_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/file_util.h"
#include "support/temp_dir.h"
#include "tls/local_ca.h"
#include "tls/openssl_handles.h"

namespace shadowai {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kDebianTool = "/usr/sbin/update-ca-certificates";
constexpr const char* kDebianAnchors = "/usr/local/share/ca-certificates";
constexpr const char* kRedHatTool = "/usr/bin/update-ca-trust";
constexpr const char* kRedHatAnchors = "/etc/pki/ca-trust/source/anchors";

// A fake host root: trust-store tools are shell scripts, directories are empty.
class TrustStoreTest : public ::testing::Test {
 protected:
  std::string path(const std::string& inside) const { return root_.path() + inside; }

  void makeDirectory(const std::string& inside) { std::filesystem::create_directories(path(inside)); }

  void makeTool(const std::string& inside, const std::string& script, mode_t mode = 0755) {
    std::filesystem::create_directories(std::filesystem::path(path(inside)).parent_path());
    ASSERT_TRUE(writeFileAtomic(path(inside), "#!/bin/sh\n" + script + "\n"));
    ASSERT_EQ(::chmod(path(inside).c_str(), mode), 0);
  }

  // A Debian-like root whose update-ca-certificates runs SCRIPT.
  TrustStore debianStore(const std::string& script) {
    makeDirectory(kDebianAnchors);
    makeDirectory("/etc/ssl/certs");
    makeTool(kDebianTool, script);
    auto store = detectTrustStore(root_.path());
    EXPECT_TRUE(store) << store.error().describe();
    return store ? *store : TrustStore{};
  }

  // What update-ca-certificates does, in short: every anchor, concatenated into the bundle.
  std::string concatenateAnchors() const {
    return "cat " + path(kDebianAnchors) + "/*.crt > " + path("/etc/ssl/certs/ca-certificates.crt");
  }

  LocalCa makeCa(const test::TempDir& dir) {
    auto ca = LocalCa::loadOrCreate(dir.path());
    EXPECT_TRUE(ca) << ca.error().describe();
    return std::move(ca).value();
  }

  test::TempDir root_;
};

TEST_F(TrustStoreTest, NoStoreNamesWhatWasLookedFor) {
  auto store = detectTrustStore(root_.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().describe(),
            "no supported system trust store on this host: found neither update-ca-certificates with "
            "/usr/local/share/ca-certificates (Debian, Ubuntu) nor update-ca-trust with "
            "/etc/pki/ca-trust/source/anchors (RHEL, Fedora); install the ca-certificates package, or add the CA "
            "to your trust store by hand");
}

TEST_F(TrustStoreTest, DebianLayout) {
  makeDirectory(kDebianAnchors);
  makeTool(kDebianTool, "true");
  auto store = detectTrustStore(root_.path());
  ASSERT_TRUE(store) << store.error().describe();
  EXPECT_EQ(store->family, TrustStoreFamily::kDebian);
  EXPECT_EQ(toString(store->family), "debian");
  EXPECT_EQ(store->anchorFile, path("/usr/local/share/ca-certificates/shadowai-local-ca.crt"));
  EXPECT_THAT(store->refreshCommand, ElementsAre(path(kDebianTool)));
  EXPECT_EQ(store->bundleFile, path("/etc/ssl/certs/ca-certificates.crt"));
}

TEST_F(TrustStoreTest, RedHatLayout) {
  makeDirectory(kRedHatAnchors);
  makeTool(kRedHatTool, "true");
  auto store = detectTrustStore(root_.path() + "/");  // a trailing slash changes nothing
  ASSERT_TRUE(store) << store.error().describe();
  EXPECT_EQ(store->family, TrustStoreFamily::kRedHat);
  EXPECT_EQ(toString(store->family), "redhat");
  EXPECT_EQ(store->anchorFile, path("/etc/pki/ca-trust/source/anchors/shadowai-local-ca.pem"));
  EXPECT_THAT(store->refreshCommand, ElementsAre(path(kRedHatTool), "extract"));
  EXPECT_EQ(store->bundleFile, path("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"));
}

TEST_F(TrustStoreTest, ToolFoundInAnyUsualDirectory) {
  makeDirectory(kDebianAnchors);
  makeTool("/sbin/update-ca-certificates", "true");
  auto store = detectTrustStore(root_.path());
  ASSERT_TRUE(store) << store.error().describe();
  EXPECT_THAT(store->refreshCommand, ElementsAre(path("/sbin/update-ca-certificates")));
}

TEST_F(TrustStoreTest, ToolWithoutItsAnchorDirectoryIsNotAStore) {
  // openSUSE has an update-ca-certificates too, with anchors elsewhere: never guess a directory.
  makeTool(kDebianTool, "true");
  makeDirectory(kRedHatAnchors);  // the other family's directory without its tool
  EXPECT_FALSE(detectTrustStore(root_.path()));
}

TEST_F(TrustStoreTest, ANonExecutableToolOrADirectoryNamedLikeOneIsNotATool) {
  makeDirectory(kDebianAnchors);
  makeTool(kDebianTool, "true", 0644);
  makeDirectory("/usr/bin/update-ca-certificates");
  EXPECT_FALSE(detectTrustStore(root_.path()));
}

TEST_F(TrustStoreTest, DebianWinsWhenBothArePresent) {
  makeDirectory(kRedHatAnchors);
  makeTool(kRedHatTool, "true");
  makeDirectory(kDebianAnchors);
  makeTool(kDebianTool, "true");
  auto store = detectTrustStore(root_.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->family, TrustStoreFamily::kDebian);
}

TEST_F(TrustStoreTest, BundleContainsFindsTheCertificateAmongOthers) {
  test::TempDir caDir, otherDir;
  LocalCa ca = makeCa(caDir);
  LocalCa other = makeCa(otherDir);
  const std::string bundle = path("/bundle.pem");

  ASSERT_TRUE(writeFileAtomic(bundle, "# Other CA\n" + other.certificatePem()));
  EXPECT_FALSE(bundleContains(bundle, ca.certificate()).value());
  // p11-kit style: comments between blocks; ours last.
  ASSERT_TRUE(writeFileAtomic(bundle, "# Other CA\n" + other.certificatePem() + "\n# shadowai\n" + ca.certificatePem()));
  EXPECT_TRUE(bundleContains(bundle, ca.certificate()).value());
  EXPECT_TRUE(bundleContains(bundle, other.certificate()).value());
}

TEST_F(TrustStoreTest, BundleContainsReadsTrustedCertificateBlocks) {
  test::TempDir caDir;
  LocalCa ca = makeCa(caDir);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_X509_AUX(bio.get(), ca.certificate()), 1);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  const std::string trusted(data, static_cast<size_t>(length));
  ASSERT_THAT(trusted, HasSubstr("BEGIN TRUSTED CERTIFICATE"));
  ASSERT_TRUE(writeFileAtomic(path("/bundle.pem"), trusted));
  EXPECT_TRUE(bundleContains(path("/bundle.pem"), ca.certificate()).value());
}

TEST_F(TrustStoreTest, BundleContainsReportsAMissingBundle) {
  test::TempDir caDir;
  LocalCa ca = makeCa(caDir);
  auto contains = bundleContains(path("/nope.pem"), ca.certificate());
  ASSERT_FALSE(contains);
  EXPECT_EQ(contains.error().describe(), "cannot read " + path("/nope.pem") + ": No such file or directory");
}

TEST_F(TrustStoreTest, InstallWritesTheAnchorRunsTheToolAndChecksTheBundle) {
  test::TempDir caDir;
  LocalCa ca = makeCa(caDir);
  TrustStore store = debianStore(concatenateAnchors());

  auto installed = installInTrustStore(store, ca.certificatePem(), ca.certificate());
  ASSERT_TRUE(installed) << installed.error().describe();
  EXPECT_TRUE(installed->anchorChanged);
  EXPECT_EQ(readFile(store.anchorFile).value(), ca.certificatePem());
  struct stat info {};
  ASSERT_EQ(::stat(store.anchorFile.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644u);
  EXPECT_TRUE(bundleContains(store.bundleFile, ca.certificate()).value());

  // Again: the anchor is left alone, the bundle rebuilt.
  installed = installInTrustStore(store, ca.certificatePem(), ca.certificate());
  ASSERT_TRUE(installed) << installed.error().describe();
  EXPECT_FALSE(installed->anchorChanged);
}

TEST_F(TrustStoreTest, InstallReplacesTheAnchorOfAnotherCa) {
  test::TempDir oldDir, newDir;
  LocalCa oldCa = makeCa(oldDir);
  LocalCa newCa = makeCa(newDir);
  TrustStore store = debianStore(concatenateAnchors());
  ASSERT_TRUE(installInTrustStore(store, oldCa.certificatePem(), oldCa.certificate()));
  auto installed = installInTrustStore(store, newCa.certificatePem(), newCa.certificate());
  ASSERT_TRUE(installed) << installed.error().describe();
  EXPECT_TRUE(installed->anchorChanged);
  EXPECT_TRUE(bundleContains(store.bundleFile, newCa.certificate()).value());
  EXPECT_FALSE(bundleContains(store.bundleFile, oldCa.certificate()).value());
}

TEST_F(TrustStoreTest, AFailingToolIsOneLineWithItsLastOutput) {
  test::TempDir caDir;
  LocalCa ca = makeCa(caDir);
  TrustStore store = debianStore("echo 'Updating certificates in /etc/ssl/certs...'; echo 'E: cannot write' >&2; exit 1");
  auto installed = installInTrustStore(store, ca.certificatePem(), ca.certificate());
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().describe(), "update-ca-certificates failed (exit status 1): E: cannot write");
}

TEST_F(TrustStoreTest, AToolThatLeavesTheCaOutOfTheBundleIsAnError) {
  test::TempDir caDir;
  LocalCa ca = makeCa(caDir);
  TrustStore store = debianStore(": > " + path("/etc/ssl/certs/ca-certificates.crt"));
  auto installed = installInTrustStore(store, ca.certificatePem(), ca.certificate());
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().describe(), "update-ca-certificates ran, but " + store.bundleFile +
                                              " does not contain the CA from " + store.anchorFile);
}

}  // namespace
}  // namespace shadowai
