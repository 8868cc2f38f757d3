#include "support/temp_dir.h"
#include "observe/env_keys.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cgroup/cgroup_fs.h"
#include "common/file_util.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;

const std::set<std::string> kKeyNames = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"};

using test::TempDir;

// A child we started, killed by its pid and reaped whatever the test's outcome.
class SpawnedChild {
 public:
  SpawnedChild(const char* program, std::vector<std::string> environment) {
    std::vector<char*> envp;
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(program), const_cast<char*>("30"), nullptr};
    error_ = ::posix_spawn(&pid_, program, nullptr, nullptr, argv, envp.data());
    if (error_ != 0) pid_ = -1;
  }

  // posix_spawn returns when exec has dropped the parent's memory, which is before the kernel has
  // laid out the new environment; until then /proc/PID/environ reads empty.
  bool waitForEnvironment() const {
    const std::string path = "/proc/" + std::to_string(pid_) + "/environ";
    for (int attempt = 0; attempt < 500; ++attempt) {
      auto content = readFile(path);
      if (content && !content->empty()) return true;
      ::usleep(10000);
    }
    return false;
  }
  ~SpawnedChild() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }
  int error() const { return error_; }

 private:
  pid_t pid_ = -1;
  int error_ = 0;
};

void writeBytes(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void makeFakeProcess(const std::string& procRoot, int pid, const char* cgroup, std::string_view environ) {
  const std::string dir = procRoot + "/" + std::to_string(pid);
  fs::create_directories(dir);
  if (cgroup != nullptr) writeBytes(dir + "/cgroup", std::string("0::") + cgroup + "\n");
  writeBytes(dir + "/environ", environ);
}

bool mentions(const std::vector<EnvKeyFinding>& findings, std::string_view secret) {
  return std::any_of(findings.begin(), findings.end(), [&](const EnvKeyFinding& finding) {
    return finding.variable.find(secret) != std::string::npos || finding.fingerprint.find(secret) != std::string::npos;
  });
}

TEST(KeyFingerprint, KnownAnswerAndShape) {
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  EXPECT_EQ(keyFingerprint("abc"), "sha256:ba7816bf8f01");
  const std::string fingerprint = keyFingerprint("sk-test-0123456789");
  ASSERT_EQ(fingerprint.size(), 7u + 12u);
  EXPECT_TRUE(fingerprint.starts_with("sha256:"));
  EXPECT_TRUE(std::all_of(fingerprint.begin() + 7, fingerprint.end(),
                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  EXPECT_EQ(keyFingerprint("sk-test-0123456789"), fingerprint);
  EXPECT_NE(keyFingerprint("sk-test-0123456780"), fingerprint);
}

TEST(FindEnvKeys, FindsTheKeyOfARealProcessAndNeverItsValue) {
  const std::string secret = "sk-test-shadowai-unit-5c1e9d";
  const char* sleepPath = fs::exists("/usr/bin/sleep") ? "/usr/bin/sleep" : "/bin/sleep";
  SpawnedChild child(sleepPath, {"OPENAI_API_KEY=" + secret, "UNRELATED_SETTING=sk-not-a-key", "ANTHROPIC_API_KEY=",
                                 "PATH=/usr/bin:/bin"});
  ASSERT_GT(child.pid(), 0) << "cannot spawn " << sleepPath << ": " << std::strerror(child.error());
  ASSERT_TRUE(child.waitForEnvironment());

  auto findings = findEnvKeys(child.pid(), kKeyNames);
  ASSERT_TRUE(findings) << findings.error().describe();
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ((*findings)[0].pid, child.pid());
  EXPECT_EQ((*findings)[0].variable, "OPENAI_API_KEY");
  EXPECT_EQ((*findings)[0].fingerprint, keyFingerprint(secret));
  EXPECT_FALSE(mentions(*findings, secret));
  EXPECT_FALSE(mentions(*findings, "sk-test"));

  // The same child through the whole-host scan, narrowed to our own cgroup.
  auto cgroup = cgroupPathOfProcess(::getpid());
  ASSERT_TRUE(cgroup) << cgroup.error().describe();
  EnvScanResult scan = scanEnvKeys(kKeyNames, *cgroup);
  EXPECT_GE(scan.processesScanned, 2u);  // this test and the child
  auto ours = std::find_if(scan.findings.begin(), scan.findings.end(),
                           [&](const EnvKeyFinding& finding) { return finding.pid == child.pid(); });
  ASSERT_NE(ours, scan.findings.end());
  EXPECT_EQ(ours->fingerprint, keyFingerprint(secret));
  EXPECT_FALSE(mentions(scan.findings, secret));
}

TEST(FindEnvKeys, ExitedProcessIsAnError) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_FALSE(findEnvKeys(child, kKeyNames));
}

TEST(FindEnvKeys, NamesMustMatchExactlyAndValuesMustBeNonEmpty) {
  TempDir proc;
  ASSERT_FALSE(proc.path().empty());
  makeFakeProcess(proc.path(), 10,
                  "/",
                  "OPENAI_API_KEY_OLD=sk-a\0XOPENAI_API_KEY=sk-b\0ANTHROPIC_API_KEY=\0=sk-c\0OPENAI_API_KEY\0"
                  "GEMINI_API_KEY=g=with=equals\0"sv);
  auto findings = findEnvKeys(10, kKeyNames, proc.path());
  ASSERT_TRUE(findings) << findings.error().describe();
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ((*findings)[0].variable, "GEMINI_API_KEY");
  EXPECT_EQ((*findings)[0].fingerprint, keyFingerprint("g=with=equals"));
}

// getenv() sees the first of a duplicated name, Python's os.environ the last: report both values.
TEST(FindEnvKeys, DuplicatedNamesReportEachDistinctValue) {
  TempDir proc;
  ASSERT_FALSE(proc.path().empty());
  makeFakeProcess(proc.path(), 11, "/", "OPENAI_API_KEY=one\0OPENAI_API_KEY=two\0OPENAI_API_KEY=one\0"sv);
  auto findings = findEnvKeys(11, kKeyNames, proc.path());
  ASSERT_TRUE(findings) << findings.error().describe();
  ASSERT_EQ(findings->size(), 2u);
  EXPECT_EQ((*findings)[0].fingerprint, keyFingerprint("one"));
  EXPECT_EQ((*findings)[1].fingerprint, keyFingerprint("two"));
}

// An environment bigger than the first read buffer, with the key at the very end and no final NUL.
TEST(FindEnvKeys, LargeEnvironment) {
  TempDir proc;
  ASSERT_FALSE(proc.path().empty());
  std::string environ;
  for (int i = 0; i < 5000; ++i) environ += "FILLER_" + std::to_string(i) + "=" + std::string(20, 'x') + '\0';
  environ += "ANTHROPIC_API_KEY=sk-ant-tail";
  makeFakeProcess(proc.path(), 12, "/", environ);
  auto findings = findEnvKeys(12, kKeyNames, proc.path());
  ASSERT_TRUE(findings) << findings.error().describe();
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ((*findings)[0].fingerprint, keyFingerprint("sk-ant-tail"));
}

TEST(ScanEnvKeys, CgroupFilterBoundaries) {
  TempDir proc;
  ASSERT_FALSE(proc.path().empty());
  makeFakeProcess(proc.path(), 100, "/a", "OPENAI_API_KEY=k100\0"sv);
  makeFakeProcess(proc.path(), 101, "/a/b", "OPENAI_API_KEY=k101\0"sv);
  makeFakeProcess(proc.path(), 102, "/ab", "OPENAI_API_KEY=k102\0"sv);
  makeFakeProcess(proc.path(), 103, "/a/c", "PATH=/bin\0"sv);
  fs::create_directories(proc.path() + "/104");  // exited between readdir and read
  makeFakeProcess(proc.path(), 105, "/a", "OPENAI_API_KEY=k105\0"sv);
  fs::remove(proc.path() + "/105/environ");  // not ours to read
  fs::create_directories(proc.path() + "/self");
  fs::create_directories(proc.path() + "/sys");

  auto pidsOf = [](const EnvScanResult& scan) {
    std::vector<int> pids;
    for (const auto& finding : scan.findings) pids.push_back(finding.pid);
    std::sort(pids.begin(), pids.end());
    return pids;
  };

  EnvScanResult underA = scanEnvKeys(kKeyNames, "/a", proc.path());
  EXPECT_EQ(pidsOf(underA), (std::vector<int>{100, 101}));
  EXPECT_EQ(underA.processesScanned, 3u);  // 100, 101, 103
  EXPECT_EQ(underA.processesSkipped, 2u);  // 104 (no cgroup), 105 (no environ)

  EnvScanResult underAb = scanEnvKeys(kKeyNames, "/a/b", proc.path());
  EXPECT_EQ(pidsOf(underAb), (std::vector<int>{101}));

  EnvScanResult everything = scanEnvKeys(kKeyNames, std::nullopt, proc.path());
  EXPECT_EQ(pidsOf(everything), (std::vector<int>{100, 101, 102}));
  EXPECT_EQ(everything.processesScanned, 4u);  // 100..103
  EXPECT_EQ(everything.processesSkipped, 2u);

  EnvScanResult missingRoot = scanEnvKeys(kKeyNames, std::nullopt, proc.path() + "/nonexistent");
  EXPECT_EQ(missingRoot.processesScanned, 0u);
  EXPECT_TRUE(missingRoot.findings.empty());
}

}  // namespace
}  // namespace shadowai
