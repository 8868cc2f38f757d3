#include "daemon/mode_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cgroup/cgroup_path.h"
#include "common/file_util.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

TEST(Mode, NamesRoundTrip) {
  for (Mode mode : {Mode::kOff, Mode::kDetect, Mode::kEnforce}) EXPECT_EQ(parseMode(toString(mode)), mode);
  EXPECT_EQ(toString(Mode::kEnforce), "enforce");
  EXPECT_EQ(parseMode("Enforce"), std::nullopt);
  EXPECT_EQ(parseMode("inherit"), std::nullopt);
  EXPECT_EQ(parseMode(""), std::nullopt);
}

TEST(CgroupPath, CanonicalSpellingOnly) {
  for (const char* good : {"/", "/a", "/system.slice/x.service", "/a/b/c", "/a b", "/..a", "/a.."}) {
    EXPECT_TRUE(isCanonicalCgroupPath(good)) << good;
  }
  for (const char* bad : {"", "a", "a/b", "/a/", "//a", "/a//b", "/./a", "/a/..", "/a/./b", "/a\nb", "/\t"}) {
    EXPECT_FALSE(isCanonicalCgroupPath(bad)) << bad;
  }
}

class ModeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "mode_store_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  ModeStore load() {
    auto store = ModeStore::load(dir_);
    EXPECT_TRUE(store) << store.error().describe();
    return std::move(*store);
  }
  void writeModesFile(const std::string& content) { std::ofstream(dir_ + "/modes.json") << content; }
  std::string loadError() {
    auto store = ModeStore::load(dir_);
    return store ? "(loaded)" : store.error().describe();
  }

  std::string dir_;
};

TEST_F(ModeStoreTest, EmptyStoreIsDetectEverywhere) {
  ModeStore store = load();
  EXPECT_TRUE(store.all().empty());
  EXPECT_EQ(store.modeOf("/"), Mode::kDetect);
  EXPECT_EQ(store.modeOf("/system.slice/x.service"), Mode::kDetect);
  EXPECT_FALSE(fs::exists(dir_ + "/modes.json"));  // loading writes nothing
}

TEST_F(ModeStoreTest, NearestAncestorWins) {
  ModeStore store = load();
  ASSERT_TRUE(store.set("/a", Mode::kEnforce));
  ASSERT_TRUE(store.set("/a/b/c", Mode::kOff));
  EXPECT_EQ(store.modeOf("/a"), Mode::kEnforce);
  EXPECT_EQ(store.modeOf("/a/b"), Mode::kEnforce);
  EXPECT_EQ(store.modeOf("/a/b/c"), Mode::kOff);
  EXPECT_EQ(store.modeOf("/a/b/c/d/e"), Mode::kOff);
  EXPECT_EQ(store.modeOf("/ab"), Mode::kDetect);  // a sibling whose name starts the same is not below /a
  EXPECT_EQ(store.modeOf("/"), Mode::kDetect);
  EXPECT_EQ(store.ownModeOf("/a/b"), std::nullopt);
  EXPECT_EQ(store.ownModeOf("/a/b/c"), Mode::kOff);

  // Back to inheriting: /a/b/c follows /a again.
  ASSERT_TRUE(store.remove("/a/b/c"));
  EXPECT_EQ(store.modeOf("/a/b/c"), Mode::kEnforce);
  ASSERT_TRUE(store.remove("/never-set"));

  // The root's own entry replaces the default for everything without a nearer one.
  ASSERT_TRUE(store.set("/", Mode::kOff));
  EXPECT_EQ(store.modeOf("/x/y"), Mode::kOff);
  EXPECT_EQ(store.modeOf("/a/z"), Mode::kEnforce);
  EXPECT_THAT(store.all(), ElementsAre(Pair("/", Mode::kOff), Pair("/a", Mode::kEnforce)));
}

TEST_F(ModeStoreTest, SurvivesReload) {
  {
    ModeStore store = load();
    ASSERT_TRUE(store.set("/system.slice/billing-etl.service", Mode::kEnforce));
    ASSERT_TRUE(store.set("/user.slice", Mode::kOff));
    ASSERT_TRUE(store.set("/tmp-gone", Mode::kDetect));
    ASSERT_TRUE(store.remove("/tmp-gone"));
  }
  ModeStore reloaded = load();
  EXPECT_THAT(reloaded.all(), ElementsAre(Pair("/system.slice/billing-etl.service", Mode::kEnforce),
                                          Pair("/user.slice", Mode::kOff)));
  EXPECT_EQ(reloaded.modeOf("/system.slice/billing-etl.service/worker"), Mode::kEnforce);

  auto text = readFile(dir_ + "/modes.json");
  ASSERT_TRUE(text);
  auto document = nlohmann::json::parse(*text);
  EXPECT_EQ(document["schema"], 1);
  EXPECT_EQ(document["modes"]["/user.slice"], "off");
  EXPECT_FALSE(fs::exists(dir_ + "/modes.json.tmp"));
}

TEST_F(ModeStoreTest, CreatesMissingStateDirectory) {
  const std::string nested = dir_ + "/var/lib/shadowai";
  auto store = ModeStore::load(nested);
  ASSERT_TRUE(store) << store.error().describe();
  ASSERT_TRUE(store->set("/a", Mode::kEnforce));
  EXPECT_TRUE(fs::exists(nested + "/modes.json"));
}

TEST_F(ModeStoreTest, FailedWriteLeavesStoreUnchanged) {
  ModeStore store = load();
  ASSERT_TRUE(store.set("/kept", Mode::kOff));
  // A directory where the temporary file must go: the write fails even for root.
  fs::create_directory(dir_ + "/modes.json.tmp");
  auto set = store.set("/a", Mode::kEnforce);
  ASSERT_FALSE(set);
  EXPECT_THAT(set.error().describe(), HasSubstr(dir_ + "/modes.json.tmp"));
  EXPECT_THAT(store.all(), ElementsAre(Pair("/kept", Mode::kOff)));
  EXPECT_EQ(store.modeOf("/a"), Mode::kDetect);
  EXPECT_FALSE(store.remove("/kept"));
  EXPECT_EQ(store.modeOf("/kept"), Mode::kOff);

  fs::remove(dir_ + "/modes.json.tmp");
  EXPECT_THAT(load().all(), ElementsAre(Pair("/kept", Mode::kOff)));
}

TEST_F(ModeStoreTest, RefusesPathsThatAreNotCanonical) {
  ModeStore store = load();
  for (const char* bad : {"", "a", "/a/", "/a/../b", "//a"}) {
    auto set = store.set(bad, Mode::kEnforce);
    ASSERT_FALSE(set) << bad;
    EXPECT_THAT(set.error().describe(), StartsWith("bad cgroup path"));
    EXPECT_FALSE(store.remove(bad)) << bad;
  }
  EXPECT_TRUE(store.all().empty());
  EXPECT_FALSE(fs::exists(dir_ + "/modes.json"));
}

TEST_F(ModeStoreTest, CorruptFileIsAnErrorNamingIt) {
  const std::string file = dir_ + "/modes.json";
  writeModesFile("{\"schema\": 1, \"modes\": {\"/a\": \"enforce\",");
  EXPECT_THAT(loadError(), StartsWith(file + ":1:"));

  writeModesFile("");
  EXPECT_THAT(loadError(), StartsWith(file + ":1:1: "));

  writeModesFile(R"({"schema": 1, "modes": {"/a": "enforced"}})");
  EXPECT_EQ(loadError(), file + ": /modes/~1a: expected \"off\", \"detect\" or \"enforce\"");

  writeModesFile(R"({"schema": 1, "modes": {"a/": "enforce"}})");
  EXPECT_EQ(loadError(), file + ": /modes/a~1: not a cgroup path");

  writeModesFile(R"({"schema": 2, "modes": {}})");
  EXPECT_EQ(loadError(), file + ": /schema: unsupported schema (this build reads schema 1)");

  writeModesFile(R"({"schema": 1, "modes": []})");
  EXPECT_EQ(loadError(), file + ": /modes: expected an object");

  writeModesFile(R"({"schema": 1, "modes": {}, "extra": 1})");
  EXPECT_EQ(loadError(), file + ": /extra: unknown field");

  writeModesFile("[]");
  EXPECT_EQ(loadError(), file + ": expected a JSON object");
}

TEST_F(ModeStoreTest, StatusListsRootThenOwnEntries) {
  ModeStore store = load();
  ASSERT_TRUE(store.set("/b", Mode::kOff));
  ASSERT_TRUE(store.set("/a", Mode::kEnforce));
  EXPECT_EQ(store.toStatusJson(), nlohmann::json::parse(R"([
    {"cgroup": "/", "mode": "detect", "own": false},
    {"cgroup": "/a", "mode": "enforce", "own": true},
    {"cgroup": "/b", "mode": "off", "own": true}])"));

  ASSERT_TRUE(store.set("/", Mode::kEnforce));
  EXPECT_EQ(store.toStatusJson()[0], nlohmann::json::parse(R"({"cgroup": "/", "mode": "enforce", "own": true})"));
  EXPECT_EQ(store.toStatusJson().size(), 3u);
}

}  // namespace
}  // namespace shadowai
