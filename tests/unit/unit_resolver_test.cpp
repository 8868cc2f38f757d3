#include "control/unit_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cgroup/cgroup_path.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string nameError(std::string_view unit) {
  auto valid = validateUnitName(unit);
  return valid ? "(valid)" : valid.error().describe();
}

TEST(UnitName, AcceptsSystemdUnitsWithACgroup) {
  for (const char* good : {"billing-etl.service", "session-4.scope", "user-1000.slice", "getty@tty1.service",
                           "a:b_c.d\\x2d.service", "docker-0123abcd.scope", "x.service"}) {
    EXPECT_EQ(nameError(good), "(valid)") << good;
  }
  EXPECT_EQ(nameError(std::string(247, 'a') + ".service"), "(valid)");  // 255 bytes
}

TEST(UnitName, RefusesWithAReason) {
  EXPECT_EQ(nameError(""), "bad unit name: it is empty");
  EXPECT_EQ(nameError("billing-etl"), "bad unit name billing-etl: expected NAME.service, NAME.scope or NAME.slice");
  EXPECT_EQ(nameError("backup.timer"), "bad unit name backup.timer: expected NAME.service, NAME.scope or NAME.slice");
  EXPECT_EQ(nameError(".service"), "bad unit name .service: expected NAME.service, NAME.scope or NAME.slice");
  EXPECT_EQ(nameError("a b.service"), "bad unit name a b.service: character ' ' is not allowed in a systemd unit name");
  EXPECT_EQ(nameError("../x.service"),
            "bad unit name ../x.service: character '/' is not allowed in a systemd unit name");
  EXPECT_EQ(nameError("getty@.service"),
            "bad unit name getty@.service: a template has no cgroup; name an instance (NAME@INSTANCE.service)");
  EXPECT_EQ(nameError("@x.service"), "bad unit name @x.service: '@' must separate a template name from its instance");
  EXPECT_EQ(nameError("a@b@c.service"),
            "bad unit name a@b@c.service: '@' must separate a template name from its instance");
  EXPECT_THAT(nameError(std::string(248, 'a') + ".service"), HasSubstr("longer than 255 bytes"));
  // A control byte is named, escaped.
  EXPECT_EQ(nameError("a\x1b.service"),
            "bad unit name a\\x1b.service: character '\\x1b' is not allowed in a systemd unit name");
}

// A fake cgroup v2 tree: directories with a cgroup.procs file, as the kernel shows them.
class FakeCgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "unit_resolver_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    addCgroup("");
    addCgroup("/system.slice");
    addCgroup("/system.slice/billing-etl.service");
    addCgroup("/system.slice/billing-etl.service/worker");
    addCgroup("/user.slice/user-1000.slice/user@1000.service/app.slice/dup.service");
    addCgroup("/machine.slice/libpod-1.scope/dup.service");
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  void addCgroup(const std::string& relative) {
    fs::create_directories(root_ + relative);
    std::ofstream(root_ + relative + "/cgroup.procs") << "";
  }

  std::string root_;
};

TEST_F(FakeCgroupTree, FindsTheOneCgroupNamedLikeTheUnit) {
  auto found = findUnitCgroupInTree("billing-etl.service", root_);
  ASSERT_TRUE(found) << found.error().describe();
  EXPECT_EQ(*found, "/system.slice/billing-etl.service");

  auto slice = findUnitCgroupInTree("user-1000.slice", root_ + "/");
  ASSERT_TRUE(slice) << slice.error().describe();
  EXPECT_EQ(*slice, "/user.slice/user-1000.slice");
}

TEST_F(FakeCgroupTree, UnknownUnitSaysWhereItLooked) {
  auto missing = findUnitCgroupInTree("nope.service", root_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().describe(), "unknown unit nope.service: no cgroup named nope.service under " + root_);
  // A file with the unit's name is not a cgroup.
  std::ofstream(root_ + "/system.slice/file.service") << "";
  EXPECT_FALSE(findUnitCgroupInTree("file.service", root_));
}

TEST_F(FakeCgroupTree, SeveralMatchesAreAmbiguous) {
  auto ambiguous = findUnitCgroupInTree("dup.service", root_);
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().describe(),
            "ambiguous unit dup.service: /machine.slice/libpod-1.scope/dup.service, "
            "/user.slice/user-1000.slice/user@1000.service/app.slice/dup.service");
}

TEST_F(FakeCgroupTree, BadNameIsRefusedBeforeTheWalk) {
  auto bad = findUnitCgroupInTree("worker", root_);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().describe(), StartsWith("bad unit name worker: "));
  auto resolved = resolveUnitCgroup("../../etc.service", root_);
  ASSERT_FALSE(resolved);
  EXPECT_THAT(resolved.error().describe(), StartsWith("bad unit name ../../etc.service: "));
}

TEST_F(FakeCgroupTree, SymlinksAreNotFollowed) {
  fs::create_directory_symlink(root_ + "/system.slice", root_ + "/machine.slice/link");
  auto found = findUnitCgroupInTree("billing-etl.service", root_);
  ASSERT_TRUE(found) << found.error().describe();  // not ambiguous through the link
  EXPECT_EQ(*found, "/system.slice/billing-etl.service");
}

TEST_F(FakeCgroupTree, WalkIsBounded) {
  auto bounded = findUnitCgroupInTree("billing-etl.service", root_, 3);
  ASSERT_FALSE(bounded);
  EXPECT_EQ(bounded.error().describe(),
            "cannot search for unit billing-etl.service: more than 3 cgroups under " + root_);
}

TEST_F(FakeCgroupTree, CgroupTargetsBecomeCanonicalRelativePaths) {
  struct Case {
    std::string argument;
    std::string relative;
  };
  for (const Case& c : std::vector<Case>{
           {"/system.slice/billing-etl.service", "/system.slice/billing-etl.service"},
           {"system.slice", "/system.slice"},
           {"/system.slice/", "/system.slice"},
           {"/system.slice//billing-etl.service/./worker", "/system.slice/billing-etl.service/worker"},
           {"/", "/"},
           {"", "/"},
       }) {
    auto resolved = resolveCgroup(root_, c.argument);
    ASSERT_TRUE(resolved) << c.argument << ": " << resolved.error().describe();
    EXPECT_EQ(resolved->relative, c.relative) << c.argument;
  }
  // An absolute path under the mount point is accepted too.
  auto underMount = resolveCgroup(root_, root_ + "/system.slice/billing-etl.service");
  ASSERT_TRUE(underMount) << underMount.error().describe();
  EXPECT_EQ(underMount->relative, "/system.slice/billing-etl.service");
  auto mountItself = resolveCgroup(root_, root_);
  ASSERT_TRUE(mountItself) << mountItself.error().describe();
  EXPECT_EQ(mountItself->relative, "/");
}

TEST_F(FakeCgroupTree, CgroupTargetErrors) {
  auto unknown = resolveCgroup(root_, "/system.slice/nope.service");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().describe(),
            "unknown cgroup /system.slice/nope.service: no cgroup /system.slice/nope.service under " + root_);

  auto escape = resolveCgroup(root_, "../../etc");
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().describe(), "bad cgroup ../../etc: it leaves the cgroup v2 hierarchy at " + root_);

  // A directory without cgroup.procs is not a cgroup.
  fs::create_directories(root_ + "/plain");
  EXPECT_FALSE(resolveCgroup(root_, "/plain"));
}

// set_mode, shadowai-scan --cgroup and the daemon's "cgroup" setting all read their argument here,
// so all of them refuse a NUL byte (stat() would stop at it and check a shorter path).
TEST_F(FakeCgroupTree, CgroupWithANulByteIsRefused) {
  auto withNul = resolveCgroup(root_, std::string("/system.slice\0/x", 16));
  ASSERT_FALSE(withNul);
  EXPECT_EQ(withNul.error().describe(), "bad cgroup /system.slice\\x00/x: it contains a NUL byte");
}

TEST_F(FakeCgroupTree, UnitTargetsAreCheckedLikeCgroups) {
  auto resolved = resolveUnitTarget("billing-etl.service", root_);
  ASSERT_TRUE(resolved) << resolved.error().describe();
  EXPECT_EQ(*resolved, "/system.slice/billing-etl.service");
  EXPECT_THAT(resolveUnitTarget("nope.service", root_).error().describe(), StartsWith("unknown unit nope.service"));
}

}  // namespace
}  // namespace shadowai
