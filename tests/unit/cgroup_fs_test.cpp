#include "support/temp_dir.h"
#include "cgroup/cgroup_fs.h"

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace shadowai {
namespace {

namespace fs = std::filesystem;

const std::string kMountinfoDir = std::string(SHADOWAI_TEST_DATA_DIR) + "/mountinfo/";

using test::TempDir;

void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

uint64_t idOf(const std::string& path) {
  auto id = cgroupIdOfPath(path);
  EXPECT_TRUE(id) << (id ? "" : id.error().describe());
  return id ? *id : 0;
}

TEST(FindCgroup2Mount, HybridLayout) {
  auto mount = findCgroup2Mount(kMountinfoDir + "hybrid.txt");
  ASSERT_TRUE(mount) << mount.error().describe();
  EXPECT_EQ(*mount, "/sys/fs/cgroup/unified");
}

TEST(FindCgroup2Mount, UnifiedLayout) {
  auto mount = findCgroup2Mount(kMountinfoDir + "unified.txt");
  ASSERT_TRUE(mount) << mount.error().describe();
  EXPECT_EQ(*mount, "/sys/fs/cgroup");
}

TEST(FindCgroup2Mount, NoneMounted) {
  auto mount = findCgroup2Mount(kMountinfoDir + "legacy_v1_only.txt");
  ASSERT_FALSE(mount);
  EXPECT_EQ(mount.error().describe(), "no cgroup v2 hierarchy is mounted");
}

// Inside a container the first cgroup2 mount may be a subtree; the hierarchy root is what /proc paths
// are relative to. Mount points with spaces arrive octal-escaped.
TEST(FindCgroup2Mount, PrefersHierarchyRootAndUnescapes) {
  auto mount = findCgroup2Mount(kMountinfoDir + "subtree_then_root.txt");
  ASSERT_TRUE(mount) << mount.error().describe();
  EXPECT_EQ(*mount, "/mnt/host cgroup");
}

TEST(FindCgroup2Mount, SubtreeWhenThatIsAllThereIs) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  writeText(dir.path() + "/mountinfo",
            "520 512 0:26 /system.slice/x.scope /sys/fs/cgroup ro,relatime - cgroup2 cgroup rw\n");
  auto mount = findCgroup2Mount(dir.path() + "/mountinfo");
  ASSERT_TRUE(mount) << mount.error().describe();
  EXPECT_EQ(*mount, "/sys/fs/cgroup");
}

TEST(FindCgroup2Mount, MissingFileIsAnError) {
  auto mount = findCgroup2Mount(kMountinfoDir + "does-not-exist.txt");
  ASSERT_FALSE(mount);
  EXPECT_EQ(mount.error().errnum, ENOENT);
}

TEST(FindCgroup2Mount, RealMountinfoNamesACgroup2Directory) {
  auto mount = findCgroup2Mount();
  ASSERT_TRUE(mount) << mount.error().describe();
  struct statfs info {};
  ASSERT_EQ(::statfs(mount->c_str(), &info), 0) << *mount;
  EXPECT_EQ(static_cast<unsigned long>(info.f_type), static_cast<unsigned long>(CGROUP2_SUPER_MAGIC)) << *mount;
  EXPECT_TRUE(fs::exists(*mount + "/cgroup.procs")) << *mount;
}

TEST(CgroupIdOfPath, RealRootIsItsKernfsId) {
  auto mount = findCgroup2Mount();
  ASSERT_TRUE(mount) << mount.error().describe();
  auto id = cgroupIdOfPath(*mount);
  ASSERT_TRUE(id) << id.error().describe();
  EXPECT_NE(*id, 0u);
  // On 64-bit kernels the kernfs node id is also the inode number.
  struct stat status {};
  ASSERT_EQ(::stat(mount->c_str(), &status), 0);
  EXPECT_EQ(*id, static_cast<uint64_t>(status.st_ino));
  EXPECT_EQ(*id, idOf(*mount));
}

TEST(CgroupIdOfPath, MissingDirectoryIsAnError) {
  auto id = cgroupIdOfPath("/nonexistent/shadowai/cgroup");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().errnum, ENOENT);
}

TEST(IsCgroupPathWithin, Boundaries) {
  EXPECT_TRUE(isCgroupPathWithin("/a", "/a"));
  EXPECT_TRUE(isCgroupPathWithin("/a/b", "/a"));
  EXPECT_TRUE(isCgroupPathWithin("/a/b/c", "/a/b"));
  EXPECT_TRUE(isCgroupPathWithin("/a/b", "/a/"));
  EXPECT_FALSE(isCgroupPathWithin("/ab", "/a"));
  EXPECT_FALSE(isCgroupPathWithin("/a", "/a/b"));
  EXPECT_FALSE(isCgroupPathWithin("/b", "/a"));
  EXPECT_FALSE(isCgroupPathWithin("", "/a"));
  EXPECT_TRUE(isCgroupPathWithin("/anything/at/all", "/"));
  EXPECT_TRUE(isCgroupPathWithin("/", "/"));
  EXPECT_FALSE(isCgroupPathWithin("", "/"));
  EXPECT_TRUE(isCgroupPathWithin("/system.slice/foo.service", "/system.slice"));
  EXPECT_FALSE(isCgroupPathWithin("/system.slice2/foo.service", "/system.slice"));
}

TEST(CgroupPathOfProcess, OwnProcess) {
  auto path = cgroupPathOfProcess(::getpid());
  ASSERT_TRUE(path) << path.error().describe();
  ASSERT_FALSE(path->empty());
  EXPECT_EQ(path->front(), '/');
  EXPECT_EQ(path->find('\n'), std::string::npos);
}

TEST(CgroupPathOfProcess, HybridFileAndMissingLine) {
  TempDir proc;
  ASSERT_FALSE(proc.path().empty());
  fs::create_directories(proc.path() + "/42");
  writeText(proc.path() + "/42/cgroup",
            "9:name=systemd:/user.slice/user-1000.slice/session-3.scope\n"
            "4:memory:/user.slice/user-1000.slice\n"
            "0::/user.slice/user-1000.slice/session-3.scope\n");
  auto path = cgroupPathOfProcess(42, proc.path());
  ASSERT_TRUE(path) << path.error().describe();
  EXPECT_EQ(*path, "/user.slice/user-1000.slice/session-3.scope");

  fs::create_directories(proc.path() + "/43");
  writeText(proc.path() + "/43/cgroup", "4:memory:/x\n");
  EXPECT_FALSE(cgroupPathOfProcess(43, proc.path()));
  EXPECT_EQ(cgroupPathOfProcess(44, proc.path()).error().errnum, ENOENT);
}

// The cache's walk and refresh rules, on an ordinary directory tree (no root needed).
TEST(CgroupPathCache, MapsIdsOfATreeToPaths) {
  TempDir root;
  ASSERT_FALSE(root.path().empty());
  fs::create_directories(root.path() + "/system.slice/foo.service/sub");
  fs::create_directories(root.path() + "/user.slice");
  CgroupPathCache cache(root.path(), std::chrono::hours(1));
  EXPECT_EQ(cache.pathOf(idOf(root.path())), "/");
  EXPECT_EQ(cache.pathOf(idOf(root.path() + "/system.slice")), "/system.slice");
  EXPECT_EQ(cache.pathOf(idOf(root.path() + "/system.slice/foo.service/sub")), "/system.slice/foo.service/sub");
  EXPECT_EQ(cache.pathOf(idOf(root.path() + "/user.slice")), "/user.slice");
}

TEST(CgroupPathCache, RewalksOnAMissAtMostOncePerInterval) {
  TempDir root;
  ASSERT_FALSE(root.path().empty());
  CgroupPathCache slow(root.path(), std::chrono::hours(1));
  CgroupPathCache eager(root.path(), std::chrono::milliseconds(0));
  fs::create_directories(root.path() + "/new.scope");
  const uint64_t id = idOf(root.path() + "/new.scope");
  EXPECT_EQ(slow.pathOf(id), std::nullopt);  // walked at construction, too soon to walk again
  EXPECT_EQ(eager.pathOf(id), "/new.scope");
  EXPECT_EQ(eager.pathOf(id ^ 0x5a5a5a5a00000000ULL), std::nullopt);
}

TEST(CgroupPathCache, VanishedCgroupsKeepTheirPath) {
  TempDir root;
  ASSERT_FALSE(root.path().empty());
  fs::create_directories(root.path() + "/gone.scope");
  const uint64_t goneId = idOf(root.path() + "/gone.scope");
  CgroupPathCache cache(root.path(), std::chrono::milliseconds(0));
  // Created before the removal, so the filesystem cannot hand gone.scope's inode to it.
  fs::create_directories(root.path() + "/later.scope");
  fs::remove(root.path() + "/gone.scope");
  EXPECT_EQ(cache.pathOf(idOf(root.path() + "/later.scope")), "/later.scope");  // a walk that misses gone.scope
  EXPECT_EQ(cache.pathOf(goneId), "/gone.scope");
}

TEST(CgroupPathCache, RemembersABoundedNumberOfVanishedCgroups) {
  TempDir root;
  ASSERT_FALSE(root.path().empty());
  const size_t maxVanished = 8;
  const size_t count = maxVanished + 5;
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < count; ++i) {
    const std::string dir = root.path() + "/c" + std::to_string(i);
    ASSERT_TRUE(fs::create_directory(dir));
    ids.push_back(idOf(dir));
  }
  CgroupPathCache cache(root.path(), std::chrono::milliseconds(0), maxVanished);
  for (size_t i = 0; i < count; ++i) fs::remove(root.path() + "/c" + std::to_string(i));
  EXPECT_EQ(cache.pathOf(idOf(root.path())), "/");
  EXPECT_EQ(cache.pathOf(0xfffffffffffffff0ULL), std::nullopt);  // forces the walk that finds them gone
  size_t remembered = 0;
  for (uint64_t id : ids) remembered += cache.pathOf(id).has_value() ? 1 : 0;
  EXPECT_EQ(remembered, maxVanished);
}

// Creates a child cgroup under the real hierarchy and removes it whatever happens.
class RealCgroup {
 public:
  explicit RealCgroup(std::string path) : path_(std::move(path)) {
    if (::mkdir(path_.c_str(), 0755) == 0) {
      created_ = true;
    } else {
      error_ = errno;
    }
  }
  ~RealCgroup() {
    if (created_) ::rmdir(path_.c_str());
  }
  bool created() const { return created_; }
  int error() const { return error_; }

 private:
  std::string path_;
  bool created_ = false;
  int error_ = 0;
};

TEST(CgroupPathCache, MapsARealChildCgroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "creating a cgroup needs root";
  auto mount = findCgroup2Mount();
  ASSERT_TRUE(mount) << mount.error().describe();
  const std::string relative = "/shadowai-unit-" + std::to_string(::getpid());
  CgroupPathCache cache(*mount, std::chrono::milliseconds(0));

  RealCgroup parent(*mount + relative);
  if (!parent.created()) {
    GTEST_SKIP() << "cannot create a cgroup under " << *mount << ": " << std::strerror(parent.error());
  }
  RealCgroup child(*mount + relative + "/child");  // destroyed first, so removed before its parent
  ASSERT_TRUE(child.created()) << std::strerror(child.error());

  const uint64_t parentId = idOf(*mount + relative);
  const uint64_t childId = idOf(*mount + relative + "/child");
  EXPECT_NE(parentId, childId);
  EXPECT_EQ(cache.pathOf(childId), relative + "/child");
  EXPECT_EQ(cache.pathOf(parentId), relative);
}

}  // namespace
}  // namespace shadowai
