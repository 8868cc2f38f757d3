// `shadowai ca init|export|install` end to end: the real CLI binary on a daemon configuration with a
// state directory of its own, no daemon running. `install` runs the host's real
// update-ca-certificates, with /usr/local/share/ca-certificates, /etc/ssl/certs and the hook
// directory replaced by private tmpfs mounts in the test's mount namespace: the host's trust store
// is never touched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "support/run_command.h"
#include "support/require_root.h"
#include "support/temp_dir.h"
#include "support/test_namespace.h"
#include "tls/certificate_builder.h"
#include "tls/certificate_fingerprint.h"
#include "tls/leaf_cert_cache.h"
#include "tls/local_ca.h"
#include "tls/openssl_handles.h"
#include "tls/trust_store.h"

namespace shadowai::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr const char* kDebianTool = "/usr/sbin/update-ca-certificates";
constexpr const char* kAnchorFile = "/usr/local/share/ca-certificates/shadowai-local-ca.crt";
constexpr const char* kBundle = "/etc/ssl/certs/ca-certificates.crt";

class CaCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    auto dir = TempDir::create("ca-cli-test");
    ASSERT_TRUE(dir) << dir.error().describe();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    stateDir_ = dir_->filePath("state");
    configPath_ = dir_->filePath("shadowaid.json");
    ASSERT_TRUE(writeFileAtomic(configPath_, json{{"state_dir", stateDir_}}.dump()));
  }

  static RunResult run(std::vector<std::string> argv) {
    const std::string command = argv.front();
    auto result = runCommand(std::move(argv), 60s);
    EXPECT_TRUE(result) << result.error().describe();
    if (!result) return {};
    EXPECT_NE(result->exitCode, -1) << command << " did not exit within 60 s; killed it";
    return *result;
  }

  RunResult ca(std::vector<std::string> args, std::vector<std::string> prefix = {}) const {
    std::vector<std::string> argv = std::move(prefix);
    argv.insert(argv.end(), {SHADOWAI_CLI_BINARY, "--config", configPath_, "ca"});
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  std::string certPath() const { return LocalCa::certificatePath(stateDir_); }
  std::string keyPath() const { return LocalCa::keyPath(stateDir_); }

  static X509Ptr readCertificate(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  }

  static std::string fingerprintOf(const std::string& pem) {
    X509Ptr certificate = readCertificate(pem);
    if (!certificate) return "(no certificate)";
    auto fingerprint = sha256Fingerprint(certificate.get());
    return fingerprint ? *fingerprint : fingerprint.error().describe();
  }

  // A private, empty trust store: update-ca-certificates rebuilds /etc/ssl/certs from the
  // distribution's CAs (/usr/share/ca-certificates, read only) and the anchors we add; no hook runs
  // (the Java hook would queue dpkg triggers on the host).
  void usePrivateTrustStore() {
    if (::access(kDebianTool, X_OK) != 0) {
      FAIL() << kDebianTool << " is missing: install the ca-certificates package (scripts/install-deps.sh)";
    }
    for (const char* directory :
         {"/usr/local/share/ca-certificates", "/etc/ssl/certs", "/etc/ca-certificates/update.d"}) {
      ASSERT_EQ(::access(directory, F_OK), 0) << directory << " is missing: is ca-certificates installed?";
      ASSERT_TRUE(mountPrivateFilesystem("tmpfs", directory)) << directory;
    }
  }

  std::unique_ptr<TempDir> dir_;
  std::string stateDir_;
  std::string configPath_;
};

TEST_F(CaCliTest, InitCreatesARootOnlyKeyAndAStrictCaCertificate) {
  RunResult init = ca({"init"});
  ASSERT_EQ(init.exitCode, 0) << init.out << init.err;
  EXPECT_EQ(init.err, "");
  EXPECT_THAT(init.out, HasSubstr("created the shadowai local CA\n"));
  EXPECT_THAT(init.out, HasSubstr("  certificate: " + certPath() + "\n"));
  EXPECT_THAT(init.out, HasSubstr("  key:         " + keyPath() + " (root only)\n"));

  struct stat info {};
  ASSERT_EQ(::stat(keyPath().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_uid, 0u);
  ASSERT_EQ(::stat((stateDir_ + "/ca").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 077, 0u);

  auto pem = readFile(certPath());
  ASSERT_TRUE(pem) << pem.error().describe();
  X509Ptr certificate = readCertificate(*pem);
  ASSERT_TRUE(certificate);
  EXPECT_THAT(init.out, HasSubstr("  SHA-256:     " + fingerprintOf(*pem) + "\n"));

  const int basicConstraints = X509_get_ext_by_NID(certificate.get(), NID_basic_constraints, -1);
  ASSERT_GE(basicConstraints, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(certificate.get(), basicConstraints)), 1);
  EXPECT_EQ(X509_check_ca(certificate.get()), 1);
  const int keyUsage = X509_get_ext_by_NID(certificate.get(), NID_key_usage, -1);
  ASSERT_GE(keyUsage, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(certificate.get(), keyUsage)), 1);
  EXPECT_EQ(X509_get_key_usage(certificate.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));

  // The same, as the openssl tool reads it.
  RunResult text = run({"openssl", "x509", "-noout", "-ext", "basicConstraints,keyUsage", "-in", certPath()});
  ASSERT_EQ(text.exitCode, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("X509v3 Basic Constraints: critical\n    CA:TRUE"));
  EXPECT_THAT(text.out, HasSubstr("X509v3 Key Usage: critical\n    Certificate Sign, CRL Sign"));

  // A second init keeps the CA.
  RunResult again = ca({"init"});
  ASSERT_EQ(again.exitCode, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("already exists"));
  EXPECT_THAT(again.out, HasSubstr(fingerprintOf(*pem)));
  EXPECT_EQ(readFile(certPath()).value(), *pem);
}

TEST_F(CaCliTest, InitJson) {
  RunResult first = ca({"init", "--json"});
  ASSERT_EQ(first.exitCode, 0) << first.out << first.err;
  json created = json::parse(first.out);
  EXPECT_EQ(created["created"], true);
  EXPECT_EQ(created["certificate"], certPath());
  EXPECT_EQ(created["key"], keyPath());
  EXPECT_EQ(created["fingerprint_sha256"], fingerprintOf(readFile(certPath()).value()));

  RunResult second = ca({"init", "--json"});
  ASSERT_EQ(second.exitCode, 0) << second.out << second.err;
  json existing = json::parse(second.out);
  EXPECT_EQ(existing["created"], false);
  EXPECT_EQ(existing["fingerprint_sha256"], created["fingerprint_sha256"]);
}

// A read-only state directory (a read-only root, a bind mount) still serves the CA it holds, with or
// without the lock file a writable one leaves behind; only making a new CA needs it writable.
TEST_F(CaCliTest, AnExistingCaIsReadFromAReadOnlyStateDirectory) {
  RunResult first = ca({"init", "--json"});
  ASSERT_EQ(first.exitCode, 0) << first.out << first.err;
  const json created = json::parse(first.out);
  const std::string caDirectory = stateDir_ + "/ca";
  // Bound onto itself read-only, in this test's own mount namespace.
  ASSERT_EQ(::mount(caDirectory.c_str(), caDirectory.c_str(), nullptr, MS_BIND, nullptr), 0) << strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{caDirectory};
  ASSERT_EQ(::mount(nullptr, caDirectory.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr), 0)
      << strerror(errno);
  RunResult readOnly = ca({"init", "--json"});
  ASSERT_EQ(readOnly.exitCode, 0) << readOnly.out << readOnly.err;
  EXPECT_EQ(json::parse(readOnly.out)["created"], false);
  EXPECT_EQ(json::parse(readOnly.out)["fingerprint_sha256"], created["fingerprint_sha256"]);

  // Without a lock file.
  ASSERT_EQ(::umount2(caDirectory.c_str(), MNT_DETACH), 0);
  ASSERT_EQ(::unlink((caDirectory + "/.lock").c_str()), 0);
  ASSERT_EQ(::mount(caDirectory.c_str(), caDirectory.c_str(), nullptr, MS_BIND, nullptr), 0) << strerror(errno);
  ASSERT_EQ(::mount(nullptr, caDirectory.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr), 0)
      << strerror(errno);
  RunResult noLock = ca({"export"});
  ASSERT_EQ(noLock.exitCode, 0) << noLock.err;
  EXPECT_EQ(fingerprintOf(noLock.out), created["fingerprint_sha256"]);
}

TEST_F(CaCliTest, ExportPrintsTheCertificateOrWritesIt) {
  ASSERT_EQ(ca({"init"}).exitCode, 0);
  const std::string pem = readFile(certPath()).value();

  RunResult exported = ca({"export"});
  ASSERT_EQ(exported.exitCode, 0) << exported.err;
  EXPECT_EQ(exported.out, pem);
  EXPECT_THAT(exported.out, Not(HasSubstr("PRIVATE KEY")));

  const std::string out = dir_->filePath("exported.pem");
  RunResult written = ca({"export", "--out", out});
  ASSERT_EQ(written.exitCode, 0) << written.err;
  EXPECT_THAT(written.out, HasSubstr(out));
  EXPECT_EQ(readFile(out).value(), pem);
  struct stat info {};
  ASSERT_EQ(::stat(out.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644u);

  // Global options may follow the subcommand.
  RunResult after = run({SHADOWAI_CLI_BINARY, "ca", "export", "--config", configPath_});
  ASSERT_EQ(after.exitCode, 0) << after.err;
  EXPECT_EQ(after.out, pem);
}

TEST_F(CaCliTest, ExportWithoutACaSaysHowToMakeOne) {
  RunResult exported = ca({"export"});
  EXPECT_EQ(exported.exitCode, 2);
  EXPECT_EQ(exported.out, "");
  EXPECT_EQ(exported.err, "shadowai: no CA in " + stateDir_ + "/ca yet: run `shadowai ca init` or start shadowaid\n");
  EXPECT_NE(::access(stateDir_.c_str(), F_OK), 0) << "export must not create anything";
}

TEST_F(CaCliTest, ConfigurationErrorsAreOneLine) {
  RunResult missing = run({SHADOWAI_CLI_BINARY, "--config", dir_->filePath("nope.json"), "ca", "init"});
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_THAT(missing.err, HasSubstr(dir_->filePath("nope.json")));
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;

  RunResult noCommand = run({SHADOWAI_CLI_BINARY, "--config", configPath_, "ca"});
  EXPECT_EQ(noCommand.exitCode, 2);
  EXPECT_EQ(std::count(noCommand.err.begin(), noCommand.err.end(), '\n'), 1) << noCommand.err;
}

TEST_F(CaCliTest, InitAndInstallNeedRoot) {
  const std::vector<std::string> nobody = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  RunResult init = ca({"init"}, nobody);
  EXPECT_EQ(init.exitCode, 2);
  EXPECT_THAT(init.err, HasSubstr("shadowai: `shadowai ca init` needs root"));
  RunResult install = ca({"install"}, nobody);
  EXPECT_EQ(install.exitCode, 2);
  EXPECT_THAT(install.err, HasSubstr("shadowai: `shadowai ca install` needs root"));
  EXPECT_NE(::access(stateDir_.c_str(), F_OK), 0);

  // export needs no root of its own, but the CA directory is root's: say so rather than "no CA".
  ASSERT_EQ(::chmod(dir_->path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(configPath_.c_str(), 0644), 0);
  ASSERT_EQ(ca({"init"}).exitCode, 0);
  RunResult exported = ca({"export"}, nobody);
  EXPECT_EQ(exported.exitCode, 2);
  EXPECT_EQ(exported.err, "shadowai: cannot read " + certPath() + ": permission denied (run as root)\n");
}

TEST_F(CaCliTest, InstallTrustsTheCaSystemWide) {
  usePrivateTrustStore();
  ASSERT_FALSE(HasFailure());

  // No init first: install creates the CA.
  RunResult install = ca({"install"});
  ASSERT_EQ(install.exitCode, 0) << install.out << install.err;
  const std::string pem = readFile(certPath()).value();
  EXPECT_THAT(install.out, HasSubstr("created the shadowai local CA in " + stateDir_ + "/ca\n"));
  EXPECT_THAT(install.out, HasSubstr("installed the shadowai local CA in the system trust store\n"));
  EXPECT_THAT(install.out, HasSubstr(std::string("  trust store: ") + kAnchorFile + "\n"));
  EXPECT_THAT(install.out, HasSubstr(fingerprintOf(pem)));
  EXPECT_THAT(install.out, HasSubstr(std::string("NODE_EXTRA_CA_CERTS=") + kAnchorFile));
  EXPECT_THAT(install.out, HasSubstr(std::string("REQUESTS_CA_BUNDLE=") + kBundle));
  EXPECT_THAT(install.out, Not(HasSubstr("Updating certificates")));  // the tool's chatter stays out

  EXPECT_EQ(readFile(kAnchorFile).value(), pem);
  struct stat info {};
  ASSERT_EQ(::stat(kAnchorFile, &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644u);
  auto bundle = readFile(kBundle);
  ASSERT_TRUE(bundle) << bundle.error().describe();
  EXPECT_THAT(*bundle, HasSubstr(pem));
  // The distribution's CAs are still there.
  EXPECT_GT(std::count(bundle->begin(), bundle->end(), '\n'), 1000);

  // A leaf the proxy would show, minted from that CA, verifies against the system bundle.
  auto localCa = LocalCa::loadOrCreate(stateDir_);
  ASSERT_TRUE(localCa) << localCa.error().describe();
  EXPECT_FALSE(localCa->created());
  LeafCertCache leaves(*localCa);
  auto leaf = leaves.certificateFor("api.openai.com");
  ASSERT_TRUE(leaf) << leaf.error().describe();
  auto leafPem = certificateToPem((*leaf)->certificate.get());
  ASSERT_TRUE(leafPem) << leafPem.error().describe();
  const std::string leafPath = dir_->filePath("leaf.pem");
  ASSERT_TRUE(writeFileAtomic(leafPath, *leafPem));
  // Only the bundle counts: no default CA file, directory or store.
  const std::vector<std::string> verifyArgs = {"openssl", "verify", "-no-CApath", "-no-CAstore", "-x509_strict",
                                               "-purpose", "sslserver", "-verify_hostname", "api.openai.com"};
  auto verifyWith = [&](const std::string& caFile) {
    std::vector<std::string> argv = verifyArgs;
    argv.insert(argv.end(), {"-CAfile", caFile, leafPath});
    return run(argv);
  };
  RunResult verify = verifyWith(kBundle);
  EXPECT_EQ(verify.exitCode, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.out, leafPath + ": OK\n");
  // ... and the check is real: against another CA the same leaf fails.
  auto otherDir = TempDir::create("other-ca");
  ASSERT_TRUE(otherDir);
  auto otherCa = LocalCa::loadOrCreate(otherDir->path());
  ASSERT_TRUE(otherCa) << otherCa.error().describe();
  RunResult without = verifyWith(LocalCa::certificatePath(otherDir->path()));
  EXPECT_NE(without.exitCode, 0) << without.out;
  EXPECT_THAT(without.out + without.err, HasSubstr("unable to get local issuer certificate"));

  // Again, as JSON: nothing changes, the bundle is rebuilt.
  RunResult again = ca({"install", "--json"});
  ASSERT_EQ(again.exitCode, 0) << again.out << again.err;
  json document = json::parse(again.out);
  EXPECT_EQ(document["created"], false);
  EXPECT_EQ(document["certificate"], certPath());
  EXPECT_EQ(document["fingerprint_sha256"], fingerprintOf(pem));
  EXPECT_EQ(document["trust_store"]["family"], "debian");
  EXPECT_EQ(document["trust_store"]["file"], kAnchorFile);
  EXPECT_EQ(document["trust_store"]["file_changed"], false);
  EXPECT_EQ(document["trust_store"]["bundle"], kBundle);
  EXPECT_EQ(document["trust_store"]["command"], json::array({kDebianTool}));
  EXPECT_EQ(document["environment"]["NODE_EXTRA_CA_CERTS"], kAnchorFile);
  EXPECT_EQ(document["environment"]["REQUESTS_CA_BUNDLE"], kBundle);
  EXPECT_EQ(document["environment"]["SSL_CERT_FILE"], kBundle);
  EXPECT_THAT(readFile(kBundle).value(), HasSubstr(pem));
}

TEST_F(CaCliTest, InstallWithoutATrustStoreChangesNothing) {
  // Without /usr/local/share/ca-certificates (hidden under an empty tmpfs) and without /etc/pki,
  // no trust store is recognised.
  ASSERT_NE(::access("/etc/pki/ca-trust/source/anchors", F_OK), 0) << "a RHEL-like host: this test assumes Debian";
  ASSERT_TRUE(mountPrivateFilesystem("tmpfs", "/usr/local/share"));
  RunResult install = ca({"install"});
  EXPECT_EQ(install.exitCode, 2);
  EXPECT_THAT(install.err, HasSubstr("shadowai: no supported system trust store on this host"));
  EXPECT_EQ(std::count(install.err.begin(), install.err.end(), '\n'), 1) << install.err;
  EXPECT_NE(::access(stateDir_.c_str(), F_OK), 0) << "no CA is created when it cannot be installed";
}

}  // namespace
}  // namespace shadowai::test
