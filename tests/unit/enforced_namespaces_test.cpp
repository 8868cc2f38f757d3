// findEnforcedNamespaces() over a made-up cgroup tree (directories with cgroup.procs files) holding
// this test's own pid: which cgroups it walks, and how it tells the daemon's namespace apart.
#include "daemon/enforced_namespaces.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "net/network_namespace.h"
#include "support/temp_dir.h"

namespace shadowai {
namespace {

class EnforcedNamespacesTest : public ::testing::Test {
 protected:
  // A cgroup directory RELATIVE under the scratch root, listing PIDS in its cgroup.procs.
  void makeCgroup(const std::string& relative, const std::vector<pid_t>& pids = {}) {
    const std::string dir = scratch_.path() + relative;
    std::filesystem::create_directories(dir);
    std::ofstream procs(dir + "/cgroup.procs");
    for (pid_t pid : pids) procs << pid << "\n";
  }

  std::map<uint64_t, EnforcedNamespace> find(const std::map<std::string, Mode>& modes) {
    return findEnforcedNamespaces(scratch_.path(), modes, notOurs_);
  }

  test::TempDir scratch_;
  const pid_t self_ = ::getpid();
  // A daemon in another namespace than this test's, so the test's own is "a container's".
  const OwnNamespace notOurs_{1, 1};
};

TEST_F(EnforcedNamespacesTest, FindsTheNamespaceOfAProcessBelowAnEnforcedCgroup) {
  makeCgroup("/a");
  makeCgroup("/a/b", {self_});
  auto found = find({{"/a", Mode::kEnforce}});
  auto inode = NetworkNamespace::inodeOfProcess(self_);
  ASSERT_TRUE(inode);
  ASSERT_EQ(found.size(), 1u);
  const EnforcedNamespace& where = found.begin()->second;
  EXPECT_EQ(found.begin()->first, *inode);
  EXPECT_EQ(where.inode, *inode);
  EXPECT_EQ(where.pid, self_);
  EXPECT_EQ(where.cgroupPath, "/a/b");
  EXPECT_EQ(where.unreadable, "");
}

TEST_F(EnforcedNamespacesTest, LeavesOutTheDaemonsOwnNamespace) {
  makeCgroup("/a", {self_});
  auto own = ownNamespace();
  ASSERT_TRUE(own) << own.error().describe();
  EXPECT_TRUE(findEnforcedNamespaces(scratch_.path(), {{"/a", Mode::kEnforce}}, *own).empty());
}

TEST_F(EnforcedNamespacesTest, SkipsSubtreesWithAModeOfTheirOwnAndCgroupsNotEnforced) {
  makeCgroup("/a");
  makeCgroup("/a/detected", {self_});
  makeCgroup("/a/detected/deeper", {self_});
  makeCgroup("/other", {self_});
  EXPECT_TRUE(find({{"/a", Mode::kEnforce}, {"/a/detected", Mode::kDetect}}).empty());
  EXPECT_TRUE(find({{"/other", Mode::kDetect}}).empty());
  EXPECT_TRUE(find({}).empty());
}

TEST_F(EnforcedNamespacesTest, AnEnforceEntryInsideAnotherSubtreeIsWalkedOnItsOwn) {
  makeCgroup("/a");
  makeCgroup("/a/detected");
  makeCgroup("/a/detected/enforced", {self_});
  auto found = find({{"/a", Mode::kEnforce}, {"/a/detected", Mode::kDetect}, {"/a/detected/enforced", Mode::kEnforce}});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.begin()->second.cgroupPath, "/a/detected/enforced");
}

TEST_F(EnforcedNamespacesTest, ACgroupThatIsGoneOrAProcessThatExitedIsSkipped) {
  makeCgroup("/a", {999'999'999});
  EXPECT_TRUE(find({{"/a", Mode::kEnforce}, {"/gone", Mode::kEnforce}}).empty());
}

}  // namespace
}  // namespace shadowai
