#include "support/temp_dir.h"
#include "observe/process_info.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cgroup/cgroup_fs.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

void writeBytes(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A /proc/PID directory with the files readProcessInfo reads.
void makeFakeProcess(const std::string& procRoot, int pid, std::string_view cmdline, const char* exeTarget) {
  const std::string dir = procRoot + "/" + std::to_string(pid);
  fs::create_directories(dir);
  writeBytes(dir + "/status", "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t" + std::to_string(pid) +
                                  "\nUid:\t1000\t4000000000\t1001\t1001\nGid:\t1000\t1000\t1000\t1000\n");
  writeBytes(dir + "/comm", "python3\n");
  writeBytes(dir + "/cmdline", cmdline);
  writeBytes(dir + "/cgroup", "0::/system.slice/billing-etl.service\n");
  if (exeTarget != nullptr) fs::create_symlink(exeTarget, dir + "/exe");
}

TEST(ProcessInfo, OwnProcess) {
  auto info = readProcessInfo(::getpid());
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->pid, ::getpid());
  EXPECT_EQ(info->uid, ::geteuid());
  EXPECT_EQ(info->userName, userNameOf(::geteuid()));
  EXPECT_EQ(info->exe, fs::read_symlink("/proc/self/exe").string());
  const std::string program = fs::path(info->exe).filename().string();
  EXPECT_EQ(info->comm, program.substr(0, 15));  // TASK_COMM_LEN - 1
  EXPECT_NE(info->cmdline.find(program), std::string::npos) << info->cmdline;
  auto cgroup = cgroupPathOfProcess(::getpid());
  ASSERT_TRUE(cgroup);
  EXPECT_EQ(info->cgroupPath, *cgroup);
}

TEST(ProcessInfo, ExitedProcessIsAnError) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto info = readProcessInfo(child);
  ASSERT_FALSE(info);
  EXPECT_TRUE(info.error().errnum == ENOENT || info.error().errnum == ESRCH) << info.error().describe();
}

// A zombie still has /proc entries but no exe: that is not an error.
TEST(ProcessInfo, ZombieHasNoExe) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  siginfo_t exited{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &exited, WEXITED | WNOWAIT), 0);  // exited, not reaped
  auto info = readProcessInfo(child);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->exe, "");
  EXPECT_EQ(info->cmdline, "");
}

TEST(ProcessInfo, FakeProcRootWithOddCmdline) {
  TempDir proc;
  ASSERT_FALSE(proc.path().empty());
  using namespace std::string_view_literals;
  makeFakeProcess(proc.path(), 4242, "python3\0-c\0print('a\tb')\n\0\0caf\xc3\xa9\0C:\\tmp\0"sv, "/usr/bin/python3.12");
  auto info = readProcessInfo(4242, proc.path());
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->pid, 4242);
  EXPECT_EQ(info->uid, 4000000000u);  // the effective one, as ps shows
  EXPECT_EQ(info->userName, "4000000000");
  EXPECT_EQ(info->comm, "python3");
  EXPECT_EQ(info->exe, "/usr/bin/python3.12");
  EXPECT_EQ(info->cmdline, "python3 -c print('a\\x09b')\\x0a  caf\\xc3\\xa9 C:\\x5ctmp");
  EXPECT_EQ(info->cgroupPath, "/system.slice/billing-etl.service");
}

TEST(ProcessInfo, UnreadableExeIsNotAnError) {
  TempDir proc;
  ASSERT_FALSE(proc.path().empty());
  makeFakeProcess(proc.path(), 7, "", nullptr);
  auto info = readProcessInfo(7, proc.path());
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->exe, "");
  EXPECT_EQ(info->cmdline, "");
}

TEST(ProcessInfo, MissingStatusIsAnError) {
  TempDir proc;
  ASSERT_FALSE(proc.path().empty());
  makeFakeProcess(proc.path(), 8, "x", "/bin/x");
  fs::remove(proc.path() + "/8/status");
  auto info = readProcessInfo(8, proc.path());
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().errnum, ENOENT);
}

TEST(FormatCmdline, CapsAtTheLimit) {
  EXPECT_EQ(formatCmdline(std::string(1024, 'a')), std::string(1024, 'a'));
  const std::string capped = formatCmdline(std::string(5000, 'a'));
  EXPECT_EQ(capped.size(), 1024u);
  EXPECT_EQ(capped, std::string(1021, 'a') + "...");
}

TEST(FormatCmdline, NeverCutsAnEscapeInHalf) {
  EXPECT_EQ(formatCmdline("ab\x01" "cd", 8), "ab\\x01cd");
  EXPECT_EQ(formatCmdline("ab\x01" "cd", 7), "ab...");
  EXPECT_EQ(formatCmdline("abcd\x01" "e", 8), "abcd...");
  EXPECT_EQ(formatCmdline(std::string(300, '\x7f'), 1024).size(), 1023u);  // 255 whole escapes + "..."
}

TEST(FormatCmdline, TrailingNulsAndEmpty) {
  using namespace std::string_view_literals;
  EXPECT_EQ(formatCmdline("sleep\0" "30\0"sv), "sleep 30");
  EXPECT_EQ(formatCmdline(""), "");
  EXPECT_EQ(formatCmdline("nginx: worker process"), "nginx: worker process");
}

TEST(UserNameOf, KnownAndUnknown) {
  EXPECT_EQ(userNameOf(0), "root");
  EXPECT_EQ(userNameOf(4000000000u), "4000000000");
}

}  // namespace
}  // namespace shadowai
