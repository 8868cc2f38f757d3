#include "daemon/daemon_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

const std::string kShippedFile = std::string(SHADOWAI_SOURCE_RULES_DIR) + "/shadowaid.json";
const std::string kDocsFile = std::string(SHADOWAI_SOURCE_RULES_DIR) + "/../docs/daemon.md";
const std::string kDataDir = std::string(SHADOWAI_TEST_DATA_DIR) + "/config";

std::string parseError(const std::string& json) {
  auto config = DaemonConfig::parse(json, "test.json");
  if (config) return "(parsed)";
  return config.error().describe();
}

TEST(DaemonConfig, DefaultsAreTheDocumentedOnes) {
  const DaemonConfig config;
  EXPECT_EQ(config.stateDir, "/var/lib/shadowai");
  EXPECT_EQ(config.runtimeDir, "/run/shadowai");
  EXPECT_EQ(config.bpfPinDir, "/sys/fs/bpf/shadowai");
  EXPECT_EQ(config.controlSocket, "/run/shadowai/control.sock");
  EXPECT_EQ(config.controlGroup, std::optional<std::string>("shadowai"));
  EXPECT_EQ(config.cgroup, "/");
  EXPECT_EQ(config.catalogFile, "");
  EXPECT_EQ(config.catalogDirs, std::vector<std::string>{"/etc/shadowai/endpoints.d"});
  EXPECT_EQ(config.proxy.listenIpv4, std::optional<std::string>("127.0.0.1"));
  EXPECT_EQ(config.proxy.listenIpv6, std::optional<std::string>("::1"));
  EXPECT_EQ(config.proxy.port, 15443);
  EXPECT_EQ(config.proxy.redirectPorts, (std::vector<uint16_t>{443, 80}));
  EXPECT_EQ(config.proxy.threads, 0u);
  EXPECT_EQ(config.proxy.peekTimeout, 5000ms);
  EXPECT_EQ(config.proxy.idleTimeout, 600s);
  EXPECT_EQ(config.proxy.connectTimeout, 10000ms);
  EXPECT_EQ(config.proxy.maxConnections, 10000u);
  EXPECT_EQ(config.proxy.upstreamMark, 0x5ea1u);
  EXPECT_EQ(config.failureMode, FailureMode::kClosed);
  EXPECT_EQ(config.heartbeatTimeout, 10s);
  EXPECT_EQ(config.noSniCatalogAddress, NoSniCatalogAddressAction::kAlert);
  EXPECT_EQ(config.sniWait, 2000ms);

  auto empty = DaemonConfig::parse("{}", "empty.json");
  ASSERT_TRUE(empty) << empty.error().describe();
  EXPECT_EQ(*empty, config);
}

TEST(DaemonConfig, ShippedFileSpellsOutTheDefaults) {
  auto shipped = DaemonConfig::fromFile(kShippedFile);
  ASSERT_TRUE(shipped) << shipped.error().describe();
  EXPECT_EQ(*shipped, DaemonConfig{});

  // And toJson() writes the same document (less its comment), so the file cannot drift from the code.
  auto text = readFile(kShippedFile);
  ASSERT_TRUE(text);
  auto document = nlohmann::json::parse(*text);
  document.erase("comment");
  EXPECT_EQ(DaemonConfig{}.toJson(), document);
}

TEST(DaemonConfig, DocsDescribeEveryField) {
  auto docs = readFile(kDocsFile);
  ASSERT_TRUE(docs) << docs.error().describe();
  const nlohmann::json defaults = DaemonConfig{}.toJson();
  for (const auto& [key, value] : defaults.items()) {
    EXPECT_THAT(*docs, HasSubstr("`" + key + "`")) << "docs/daemon.md does not describe " << key;
  }
  for (const auto& [key, value] : defaults["proxy"].items()) {
    EXPECT_THAT(*docs, HasSubstr("`proxy." + key + "`")) << "docs/daemon.md does not describe proxy." << key;
  }
}

TEST(DaemonConfig, EveryFieldIsRead) {
  auto config = DaemonConfig::fromFile(kDataDir + "/every_field.json");
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->stateDir, "/srv/shadowai/state");
  EXPECT_EQ(config->runtimeDir, "/srv/shadowai/run");
  EXPECT_EQ(config->bpfPinDir, "/sys/fs/bpf/shadowai-test");
  EXPECT_EQ(config->controlSocket, "/srv/shadowai/ctl.sock");
  EXPECT_EQ(config->controlGroup, std::optional<std::string>("llm-admins"));
  EXPECT_EQ(config->cgroup, "/system.slice");
  EXPECT_EQ(config->catalogFile, "/srv/shadowai/endpoints.json");
  EXPECT_EQ(config->catalogDirs, (std::vector<std::string>{"/srv/shadowai/endpoints.d", "/etc/corp/llm.d"}));
  EXPECT_EQ(config->proxy.listenIpv4, std::optional<std::string>("127.0.0.9"));
  EXPECT_EQ(config->proxy.listenIpv6, std::nullopt);
  EXPECT_EQ(config->proxy.port, 16443);
  EXPECT_EQ(config->proxy.redirectPorts, (std::vector<uint16_t>{443, 8443, 80}));
  EXPECT_EQ(config->proxy.threads, 4u);
  EXPECT_EQ(config->proxy.peekTimeout, 1500ms);
  EXPECT_EQ(config->proxy.idleTimeout, 120s);
  EXPECT_EQ(config->proxy.connectTimeout, 3000ms);
  EXPECT_EQ(config->proxy.maxConnections, 512u);
  EXPECT_EQ(config->proxy.upstreamMark, 4096u);
  EXPECT_EQ(config->failureMode, FailureMode::kOpen);
  EXPECT_EQ(config->heartbeatTimeout, 30s);
  EXPECT_EQ(config->noSniCatalogAddress, NoSniCatalogAddressAction::kRefuse);
  EXPECT_EQ(config->sniWait, 250ms);

  auto again = DaemonConfig::parse(config->toJson().dump(), "round-trip.json");
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(*again, *config);
}

TEST(DaemonConfig, ControlSocketFollowsRuntimeDirUnlessGiven) {
  auto derived = DaemonConfig::parse(R"({"runtime_dir": "/tmp/instance-7"})", "t.json");
  ASSERT_TRUE(derived) << derived.error().describe();
  EXPECT_EQ(derived->controlSocket, "/tmp/instance-7/control.sock");

  auto nullSocket = DaemonConfig::parse(R"({"runtime_dir": "/tmp/i8", "control_socket": null})", "t.json");
  ASSERT_TRUE(nullSocket) << nullSocket.error().describe();
  EXPECT_EQ(nullSocket->controlSocket, "/tmp/i8/control.sock");

  auto given = DaemonConfig::parse(R"({"control_socket": "/tmp/c.sock", "runtime_dir": "/tmp/i9"})", "t.json");
  ASSERT_TRUE(given) << given.error().describe();
  EXPECT_EQ(given->controlSocket, "/tmp/c.sock");
}

TEST(DaemonConfig, NullsMeanRootOnlyShippedCatalogAndNoListener) {
  auto config = DaemonConfig::parse(
      R"({"control_group": null, "catalog_file": null, "proxy": {"listen_ipv4": null}, "catalog_dirs": []})", "t.json");
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->controlGroup, std::nullopt);
  EXPECT_EQ(config->catalogFile, "");
  EXPECT_TRUE(config->catalogDirs.empty());
  EXPECT_EQ(config->proxy.listenIpv4, std::nullopt);
  EXPECT_EQ(config->proxy.listenIpv6, std::optional<std::string>("::1"));
}

TEST(DaemonConfig, UpstreamMarkAsHexString) {
  auto config = DaemonConfig::parse(R"({"proxy": {"upstream_mark": "0xFFFFFFFF"}})", "t.json");
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->proxy.upstreamMark, 0xffffffffu);
  EXPECT_EQ(config->toJson()["proxy"]["upstream_mark"], "0xffffffff");
}

TEST(DaemonConfig, UnknownKeysAreErrors) {
  EXPECT_EQ(parseError(R"({"failure_mod": "open"})"), "test.json: /failure_mod: unknown field");
  EXPECT_EQ(parseError(R"({"proxy": {"prot": 1}})"), "test.json: /proxy/prot: unknown field");
  // A key with '/' in it is escaped in the pointer (RFC 6901).
  EXPECT_EQ(parseError(R"({"a/b": 1})"), "test.json: /a~1b: unknown field");
}

struct BadValue {
  const char* json;
  const char* error;
};

class DaemonConfigBadValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(DaemonConfigBadValue, NamesFileAndPointer) { EXPECT_EQ(parseError(GetParam().json), GetParam().error); }

INSTANTIATE_TEST_SUITE_P(
    EveryField, DaemonConfigBadValue,
    ::testing::Values(
        BadValue{R"([])", "test.json: expected a JSON object"},
        BadValue{R"({"state_dir": 3})", "test.json: /state_dir: expected an absolute path"},
        BadValue{R"({"runtime_dir": "run/shadowai"})", "test.json: /runtime_dir: expected an absolute path"},
        BadValue{R"({"bpf_pin_dir": ""})", "test.json: /bpf_pin_dir: expected an absolute path"},
        BadValue{R"({"control_socket": "x.sock"})", "test.json: /control_socket: expected an absolute path or null"},
        BadValue{R"({"control_group": ""})", "test.json: /control_group: expected a group name or null"},
        BadValue{R"({"control_group": "a:b"})", "test.json: /control_group: expected a group name or null"},
        BadValue{R"({"cgroup": "system.slice"})",
                 "test.json: /cgroup: expected a cgroup path from the cgroup v2 root, like \"/\" or \"/system.slice\""},
        BadValue{R"({"cgroup": "/a/../b"})",
                 "test.json: /cgroup: expected a cgroup path from the cgroup v2 root, like \"/\" or \"/system.slice\""},
        BadValue{R"({"catalog_file": 1})", "test.json: /catalog_file: expected an absolute path or null"},
        BadValue{R"({"catalog_dirs": "/etc"})", "test.json: /catalog_dirs: expected an array of absolute paths"},
        BadValue{R"({"catalog_dirs": ["/etc", "x"]})", "test.json: /catalog_dirs/1: expected an absolute path"},
        BadValue{R"({"proxy": []})", "test.json: /proxy: expected an object"},
        BadValue{R"({"proxy": {"listen_ipv4": "::1"}})", "test.json: /proxy/listen_ipv4: expected an IPv4 address or null"},
        BadValue{R"({"proxy": {"listen_ipv6": "127.0.0.1"}})",
                 "test.json: /proxy/listen_ipv6: expected an IPv6 address or null"},
        BadValue{R"({"proxy": {"listen_ipv4": null, "listen_ipv6": null}})",
                 "test.json: /proxy: listen_ipv4 and listen_ipv6 are both null: the proxy needs at least one address"},
        BadValue{R"({"proxy": {"port": "15443"}})", "test.json: /proxy/port: expected an integer 1..65535"},
        BadValue{R"({"proxy": {"port": 0}})", "test.json: /proxy/port: expected an integer 1..65535"},
        BadValue{R"({"proxy": {"port": 65536}})", "test.json: /proxy/port: expected an integer 1..65535"},
        BadValue{R"({"proxy": {"port": 15443.5}})", "test.json: /proxy/port: expected an integer 1..65535"},
        BadValue{R"({"proxy": {"port": -1}})", "test.json: /proxy/port: expected an integer 1..65535"},
        BadValue{R"({"proxy": {"port": 443}})", "test.json: /proxy/port: the proxy port must not be one of redirect_ports"},
        BadValue{R"({"proxy": {"redirect_ports": []}})",
                 "test.json: /proxy/redirect_ports: expected a non-empty array of ports"},
        BadValue{R"({"proxy": {"redirect_ports": [443, "80"]}})",
                 "test.json: /proxy/redirect_ports/1: expected an integer 1..65535"},
        BadValue{R"({"proxy": {"redirect_ports": [443, 443]}})",
                 "test.json: /proxy/redirect_ports/1: duplicate port 443"},
        BadValue{R"({"proxy": {"threads": -2}})", "test.json: /proxy/threads: expected an integer 0..1024"},
        BadValue{R"({"proxy": {"peek_timeout_ms": 0}})", "test.json: /proxy/peek_timeout_ms: expected an integer 1..600000"},
        BadValue{R"({"proxy": {"idle_timeout_s": true}})", "test.json: /proxy/idle_timeout_s: expected an integer 1..86400"},
        BadValue{R"({"proxy": {"connect_timeout_ms": 18446744073709551615}})",
                 "test.json: /proxy/connect_timeout_ms: expected an integer 1..600000"},
        BadValue{R"({"proxy": {"max_connections": 0}})", "test.json: /proxy/max_connections: expected an integer 1..1000000"},
        BadValue{R"({"proxy": {"upstream_mark": 0}})",
                 "test.json: /proxy/upstream_mark: expected a non-zero 32-bit integer, or a string like \"0x5ea1\""},
        BadValue{R"({"proxy": {"upstream_mark": "5ea1"}})",
                 "test.json: /proxy/upstream_mark: expected a non-zero 32-bit integer, or a string like \"0x5ea1\""},
        BadValue{R"({"proxy": {"upstream_mark": 4294967296}})",
                 "test.json: /proxy/upstream_mark: expected a non-zero 32-bit integer, or a string like \"0x5ea1\""},
        BadValue{R"({"failure_mode": "fail-open"})", "test.json: /failure_mode: expected \"closed\" or \"open\""},
        BadValue{R"({"heartbeat_timeout_s": 0})", "test.json: /heartbeat_timeout_s: expected an integer 1..3600"},
        BadValue{R"({"no_sni_catalog_address": 1})",
                 "test.json: /no_sni_catalog_address: expected \"alert\" or \"refuse\""},
        BadValue{R"({"sni_wait_ms": 60001})", "test.json: /sni_wait_ms: expected an integer 0..60000"},
        BadValue{R"({"comment": 1})", "test.json: /comment: expected a string or an array of strings"}));

TEST(DaemonConfig, SyntaxErrorsGiveFileLineAndColumn) {
  const std::string file = kDataDir + "/syntax_error.json";
  auto config = DaemonConfig::fromFile(file);
  ASSERT_FALSE(config);
  const std::string error = config.error().describe();
  EXPECT_THAT(error, StartsWith(file + ":5:13: "));
  EXPECT_THAT(error, HasSubstr("syntax error"));
  EXPECT_THAT(error, Not(HasSubstr("json.exception")));
  EXPECT_EQ(error.find('\n'), std::string::npos);

  EXPECT_THAT(parseError(""), StartsWith("test.json:1:1: "));
  EXPECT_THAT(parseError("{\"state_dir\": \"/x\",\n"), StartsWith("test.json:2:1: "));
  EXPECT_THAT(parseError("{\"proxy\": {\"port\": 1e999}}"), StartsWith("test.json:1:20: number overflow"));
  // Bytes of the input quoted in the message are escaped: the line may reach a terminal.
  EXPECT_EQ(parseError("{\"a\x1b[31m\": }").find('\x1b'), std::string::npos);
}

TEST(DaemonConfig, AHugeBadFileGivesAShortErrorThatStillSaysWhere) {
  // The parser quotes the token it stopped at, and a schema error the key it did not know: a 10 MB
  // token or key must not make a 10 MB line in a terminal or the journal.
  const std::string huge(10 << 20, 'x');
  struct Case {
    std::string json;
    std::string where;
  };
  for (const Case& bad : {Case{"{\"state_dir\": \"/x\",\n \"catalog_file\": \"" + huge, "test.json:2:"},
                          Case{"{\"state_dir\": \"/x\",\n \"catalog_file\": \"" + huge + "\n\"}", "test.json:2:"},
                          Case{"{\"proxy\": {\"port\": 1" + std::string(10 << 20, '0') + "}}", "test.json:1:20: "},
                          Case{"{\"proxy\": {\"" + huge + "\": 1}}", "test.json: /proxy/xxx"}}) {
    const std::string error = parseError(bad.json);
    EXPECT_LT(error.size(), 300u) << error.substr(0, 300);
    EXPECT_THAT(error, StartsWith(bad.where));
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

class DaemonConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "daemon_config_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string dir_;
};

TEST_F(DaemonConfigFileTest, MissingExplicitFileIsAnError) {
  auto config = DaemonConfig::fromFile(dir_ + "/nope.json");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().describe(), "cannot read configuration " + dir_ + "/nope.json: No such file or directory");
}

TEST_F(DaemonConfigFileTest, MissingDefaultFileMeansDefaults) {
  auto config = DaemonConfig::fromDefaultFile(dir_ + "/nope.json");
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(*config, DaemonConfig{});
}

TEST_F(DaemonConfigFileTest, PresentDefaultFileMustBeValid) {
  const std::string file = dir_ + "/shadowaid.json";
  std::ofstream(file) << R"({"proxy": {"port": 99999}})";
  auto config = DaemonConfig::fromDefaultFile(file);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().describe(), file + ": /proxy/port: expected an integer 1..65535");

  std::ofstream(file, std::ios::trunc) << R"({"state_dir": "/tmp/sd", "failure_mode": "open"})";
  auto valid = DaemonConfig::fromDefaultFile(file);
  ASSERT_TRUE(valid) << valid.error().describe();
  EXPECT_EQ(valid->stateDir, "/tmp/sd");
  EXPECT_EQ(valid->failureMode, FailureMode::kOpen);
}

}  // namespace
}  // namespace shadowai
