#include "credentials/credential_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "sk-test-SECRETVALUE-0123456789";

const std::string kValidFile = std::string(R"({"mode": "require-managed", "keys": [{"provider": "openai", "key": ")") +
                               kSecret + R"("}]})";

std::string writeFile(const test::TempDir& dir, const std::string& name, const std::string& content, mode_t mode) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path) << content;
  ::chmod(path.c_str(), mode);
  return path;
}

std::string loadError(const std::string& path) {
  auto store = CredentialStore::load(path);
  if (store) return "(loaded)";
  return store.error().describe();
}

TEST(CredentialStore, LoadsAPrivateFile) {
  test::TempDir dir;
  std::string path = writeFile(dir, "credentials.json", kValidFile, 0600);
  auto store = CredentialStore::load(path);
  ASSERT_TRUE(store) << store.error().describe();
  ASSERT_EQ(store->keys().size(), 1u);
  EXPECT_EQ(store->keys()[0].key.reveal(), kSecret);
  EXPECT_EQ(store->modeFor("openai"), CredentialMode::kRequireManaged);
  EXPECT_EQ(store->describe(), path + ": 1 key (openai), mode require-managed");
  // Read-only for the owner is just as private.
  ::chmod(path.c_str(), 0400);
  EXPECT_TRUE(CredentialStore::load(path));
}

TEST(CredentialStore, RefusesFilesOthersCanReadOrWrite) {
  test::TempDir dir;
  std::string path = writeFile(dir, "credentials.json", kValidFile, 0644);
  EXPECT_EQ(loadError(path), path + ": mode 0644: must not be readable by group or others (chmod 600)");
  ::chmod(path.c_str(), 0640);
  EXPECT_EQ(loadError(path), path + ": mode 0640: must not be readable by group or others (chmod 600)");
  ::chmod(path.c_str(), 0620);
  EXPECT_EQ(loadError(path), path + ": mode 0620: must not be writable by group or others (chmod 600)");
  ::chmod(path.c_str(), 0666);
  EXPECT_EQ(loadError(path), path + ": mode 0666: must not be readable or writable by group or others (chmod 600)");
  ::chmod(path.c_str(), 0601);
  EXPECT_EQ(loadError(path), path + ": mode 0601: must not be executable by group or others (chmod 600)");
}

TEST(CredentialStore, FollowsSymlinksButChecksTheFileTheyLeadTo) {
  test::TempDir dir;
  std::string loose = writeFile(dir, "loose.json", kValidFile, 0644);
  std::string tight = writeFile(dir, "tight.json", kValidFile, 0600);
  fs::create_symlink(loose, dir.path() + "/to-loose.json");
  fs::create_symlink(tight, dir.path() + "/to-tight.json");
  fs::create_symlink(dir.path() + "/nothing.json", dir.path() + "/dangling.json");
  EXPECT_EQ(loadError(dir.path() + "/to-loose.json"),
            dir.path() + "/to-loose.json: mode 0644: must not be readable by group or others (chmod 600)");
  EXPECT_TRUE(CredentialStore::load(dir.path() + "/to-tight.json"));
  EXPECT_EQ(loadError(dir.path() + "/dangling.json"), dir.path() + "/dangling.json: a symbolic link to nothing");
}

TEST(CredentialStore, RefusesAFileOwnedBySomeoneElse) {
  test::TempDir dir;
  std::string path = writeFile(dir, "credentials.json", kValidFile, 0600);
  const uid_t stranger = ::geteuid() == 4242 ? 4243 : 4242;
  auto store = CredentialStore::loadWithTrustedOwnersForTest(path, {stranger});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().describe(), path + ": owned by uid " + std::to_string(::geteuid()) +
                                          ": must be owned by root (chown root:root)");
  EXPECT_TRUE(CredentialStore::loadWithTrustedOwnersForTest(path, {stranger, ::geteuid()}));
}

TEST(CredentialStore, RefusesWhatIsNotARegularFile) {
  test::TempDir dir;
  fs::create_directory(dir.path() + "/credentials.json");
  ::chmod((dir.path() + "/credentials.json").c_str(), 0700);
  EXPECT_EQ(loadError(dir.path() + "/credentials.json"), dir.path() + "/credentials.json: not a regular file");
  std::string fifo = dir.path() + "/fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(loadError(fifo), fifo + ": not a regular file");  // and does not hang on open
}

TEST(CredentialStore, AMissingFileIsAnEmptyPassThroughStore) {
  test::TempDir dir;
  auto store = CredentialStore::load(dir.path() + "/credentials.json");
  ASSERT_TRUE(store) << store.error().describe();
  EXPECT_TRUE(store->keys().empty());
  EXPECT_EQ(store->modeFor("openai"), CredentialMode::kPassThrough);
  EXPECT_EQ(store->lookup("openai", "/system.slice/a.service", "a.service"), nullptr);
  EXPECT_EQ(store->describe(),
            "no credentials file (" + dir.path() + "/credentials.json): no managed keys, mode pass-through");
}

TEST(CredentialStore, FormatErrorsNameTheFileAndNeverTheKey) {
  test::TempDir dir;
  std::string path = writeFile(dir, "credentials.json",
                               std::string(R"({"mode": "pass-through", "keys": [{"provider": "openai", "key": ")") +
                                   kSecret + R"(", "labl": "x"}]})",
                               0600);
  EXPECT_EQ(loadError(path), path + ": /keys/0: has an unknown field (allowed: comment, provider, key, label, "
                                    "selector; its name is withheld: the file holds keys)");
  path = writeFile(dir, "broken.json", std::string(R"({"mode": "pass-through", "keys": [{"key": ")") + kSecret, 0600);
  EXPECT_THAT(loadError(path), HasSubstr(path + ":1:"));
  EXPECT_THAT(loadError(path), Not(HasSubstr("SECRETVALUE")));
}

CredentialStore storeOf(const std::string& json) {
  auto file = parseCredentialFile(json, "test.json");
  EXPECT_TRUE(file) << file.error().describe();
  return CredentialStore(std::move(*file), "test.json");
}

const char* labelOf(const ManagedKey* key) { return key == nullptr ? "(none)" : key->label.c_str(); }

TEST(CredentialStore, NearestSelectorWinsThenProviderWide) {
  CredentialStore store = storeOf(R"({"mode": "require-managed", "keys": [
    {"provider": "openai", "key": "k1", "label": "fleet"},
    {"provider": "openai", "key": "k2", "label": "slice", "selector": {"cgroup": "/system.slice"}},
    {"provider": "openai", "key": "k3", "label": "etl-cgroup", "selector": {"cgroup": "/system.slice/etl.service"}},
    {"provider": "openai", "key": "k4", "label": "etl-unit", "selector": {"unit": "etl.service"}},
    {"provider": "openai", "key": "k5", "label": "worker", "selector": {"cgroup": "/system.slice/etl.service/worker"}},
    {"provider": "openai", "key": "k6", "label": "web-unit", "selector": {"unit": "web.service"}},
    {"provider": "openai", "key": "k7", "label": "root", "selector": {"cgroup": "/"}},
    {"provider": "anthropic", "key": "k8", "label": "claude-etl", "selector": {"unit": "etl.service"}}
  ]})");
  // The deepest cgroup selector covering the workload.
  EXPECT_STREQ(labelOf(store.lookup("openai", "/system.slice/etl.service/worker/1", "etl.service")), "worker");
  // Same cgroup named two ways: the cgroup selector wins.
  EXPECT_STREQ(labelOf(store.lookup("openai", "/system.slice/etl.service", "etl.service")), "etl-cgroup");
  // A unit beats a cgroup selector above its cgroup.
  EXPECT_STREQ(labelOf(store.lookup("openai", "/system.slice/web.service", "web.service")), "web-unit");
  EXPECT_STREQ(labelOf(store.lookup("openai", "/system.slice/other.service", "other.service")), "slice");
  EXPECT_STREQ(labelOf(store.lookup("openai", "/user.slice/user-1000.slice", "")), "root");
  // "/system.slice/etl" is not below "/system.slice/etl.service"; prefixes go by component.
  EXPECT_STREQ(labelOf(store.lookup("openai", "/system.slice/etl.service2", "")), "slice");
  // A unit that the cgroup path does not show still counts as nearest.
  EXPECT_STREQ(labelOf(store.lookup("openai", "/elsewhere", "web.service")), "web-unit");
  EXPECT_STREQ(labelOf(store.lookup("anthropic", "/system.slice/etl.service", "etl.service")), "claude-etl");
  EXPECT_STREQ(labelOf(store.lookup("anthropic", "/system.slice/web.service", "web.service")), "(none)");
  EXPECT_STREQ(labelOf(store.lookup("google-gemini", "/system.slice/etl.service", "etl.service")), "(none)");
}

TEST(CredentialStore, ProviderWideKeyWhenNoSelectorMatches) {
  CredentialStore store = storeOf(R"({"mode": "pass-through", "keys": [
    {"provider": "openai", "key": "k2", "label": "etl", "selector": {"unit": "etl.service"}},
    {"provider": "openai", "key": "k1", "label": "fleet"}
  ]})");
  EXPECT_STREQ(labelOf(store.lookup("openai", "/system.slice/web.service", "web.service")), "fleet");
  EXPECT_STREQ(labelOf(store.lookup("openai", "", "")), "fleet");
  EXPECT_STREQ(labelOf(store.lookup("openai", "/system.slice/etl.service", "etl.service")), "etl");
}

TEST(CredentialStore, ModeFallsBackToTheFilesMode) {
  CredentialStore store = storeOf(R"({"mode": "require-managed",
    "providers": {"ollama": {"mode": "pass-through"}}, "keys": [{"provider": "openai", "key": "k"}]})");
  EXPECT_EQ(store.modeFor("openai"), CredentialMode::kRequireManaged);
  EXPECT_EQ(store.modeFor("anthropic"), CredentialMode::kRequireManaged);
  EXPECT_EQ(store.modeFor("ollama"), CredentialMode::kPassThrough);
  EXPECT_EQ(store.providerIds(), (std::vector<std::string>{"ollama", "openai"}));
}

TEST(CredentialStore, DescribeNeverShowsKeys) {
  test::TempDir dir;
  std::string path = writeFile(dir, "credentials.json", kValidFile, 0600);
  auto store = CredentialStore::load(path);
  ASSERT_TRUE(store) << store.error().describe();
  EXPECT_THAT(store->describe(), Not(HasSubstr("SECRETVALUE")));
  for (const ManagedKey& key : store->keys()) EXPECT_THAT(key.describe(), Not(HasSubstr("SECRETVALUE")));
}

}  // namespace
}  // namespace shadowai
