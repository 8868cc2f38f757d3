#include "scan/scan_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catalog/catalog.h"
#include "cgroup/cgroup_path.h"

namespace shadowai {
namespace {

constexpr const char* kCatalog = R"({"schema": 1, "endpoints": [
  {"id": "openai", "name": "OpenAI", "apiFamily": "openai-chat", "hosts": ["api.openai.com"], "envKeys": ["OPENAI_API_KEY"]},
  {"id": "ollama", "name": "Ollama", "apiFamily": "ollama", "category": "local", "hosts": ["*"], "ports": [11434], "envKeys": []}
]})";

class ScanReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = Catalog::parse(kCatalog, "test");
    ASSERT_TRUE(catalog) << catalog.error().describe();
    catalog_ = std::make_unique<Catalog>(std::move(*catalog));
    context_.hostName = "worker-7";
    context_.cgroupScope = "/";
    context_.startedAt = std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));
    context_.endedAt = context_.startedAt + std::chrono::seconds(30);
  }

  Detection detection(const std::string& host, uint16_t port, int pid, const std::string& cgroup) {
    Detection d;
    d.process.pid = pid;
    d.process.exe = "/usr/bin/python3";
    d.process.comm = "python3";
    d.process.userName = "etl";
    d.process.uid = 998;
    d.process.cgroupPath = cgroup;
    d.port = port;
    d.remote = *IpAddress::parse("10.0.0.1");
    auto match = port == 11434 ? catalog_->matchPortOnly(port) : catalog_->matchHost(host, port);
    EXPECT_TRUE(match);
    d.classification = Classification{*match, port == 11434 ? MatchMethod::kPort : MatchMethod::kSni, host};
    d.when = context_.startedAt + std::chrono::seconds(pid);
    return d;
  }

  std::unique_ptr<Catalog> catalog_;
  ScanContext context_;
};

TEST_F(ScanReportTest, AggregatesPerWorkloadAndCall) {
  ScanReport report;
  report.addDetection(detection("api.openai.com", 443, 3, "/system.slice/billing-etl.service"));
  report.addDetection(detection("api.openai.com", 443, 1, "/system.slice/billing-etl.service"));
  report.addDetection(detection("api.openai.com", 443, 2, "/system.slice/other.service"));
  auto json = report.toJson(context_);
  EXPECT_EQ(json.at("schema"), "shadowai-scan/1");
  ASSERT_EQ(json.at("workloads").size(), 2u);
  const auto& billing = json.at("workloads")[0];
  EXPECT_EQ(billing.at("workload").at("kind"), "service");
  EXPECT_EQ(billing.at("workload").at("name"), "billing-etl.service");
  EXPECT_EQ(billing.at("process").at("exe"), "/usr/bin/python3");
  ASSERT_EQ(billing.at("calls").size(), 1u);
  const auto& call = billing.at("calls")[0];
  EXPECT_EQ(call.at("connections"), 2);
  EXPECT_EQ(call.at("pids"), nlohmann::json::array({1, 3}));
  EXPECT_EQ(call.at("first_seen"), formatTimestamp(context_.startedAt + std::chrono::seconds(1)));
  EXPECT_EQ(call.at("last_seen"), formatTimestamp(context_.startedAt + std::chrono::seconds(3)));
  EXPECT_EQ(call.at("matched_by"), "sni");
  EXPECT_EQ(json.at("totals").at("llm_connections"), 3);
  EXPECT_EQ(json.at("totals").at("providers"), 1);
  EXPECT_TRUE(report.hasFindings());

  const std::string table = report.toTable(context_);
  EXPECT_NE(table.find("billing-etl.service"), std::string::npos) << table;
  EXPECT_NE(table.find("api.openai.com"), std::string::npos) << table;
}

TEST_F(ScanReportTest, LocalServersAloneAreNotFindings) {
  ScanReport report;
  report.addDetection(detection("127.0.0.1", 11434, 1, "/user.slice"));
  EXPECT_FALSE(report.hasFindings());
  EXPECT_NE(report.toTable(context_).find("ollama (local)"), std::string::npos);
}

TEST_F(ScanReportTest, EnvKeysShowFingerprintOnly) {
  ScanReport report;
  EnvKeyReportItem item;
  item.finding = EnvKeyFinding{812, "OPENAI_API_KEY", keyFingerprint("sk-secret-value")};
  item.process.cgroupPath = "/system.slice/billing-etl.service";
  item.providers = {"openai"};
  report.addEnvKey(item);
  EXPECT_TRUE(report.hasFindings());
  const std::string json = report.toJson(context_).dump();
  EXPECT_EQ(json.find("sk-secret-value"), std::string::npos);
  EXPECT_NE(json.find(keyFingerprint("sk-secret-value")), std::string::npos);
}

TEST_F(ScanReportTest, LostEventsWarnInTable) {
  ScanReport report;
  context_.lostEvents[SHADOWAI_LOST_TLS_HELLO] = 7;
  EXPECT_NE(report.toTable(context_).find("WARNING: events were lost"), std::string::npos);
  EXPECT_EQ(report.toJson(context_).at("totals").at("lost_events").at("total"), 7);
}

TEST(ResolveCgroup, AcceptsRelativeAndMountPathsAndRejectsEscapes) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("shadowai-cgroot-" + std::to_string(getpid()));
  fs::create_directories(root / "system.slice/foo.service");
  std::ofstream(root / "cgroup.procs").put('\n');
  std::ofstream(root / "system.slice/foo.service/cgroup.procs").put('\n');
  fs::create_directories(root / "not-a-cgroup");

  auto relative = resolveCgroup(root.string(), "/system.slice/foo.service");
  ASSERT_TRUE(relative) << relative.error().describe();
  EXPECT_EQ(relative->relative, "/system.slice/foo.service");
  EXPECT_EQ(relative->absolute, (root / "system.slice/foo.service").string());

  auto underMount = resolveCgroup(root.string(), (root / "system.slice/foo.service/").string());
  ASSERT_TRUE(underMount);
  EXPECT_EQ(underMount->relative, "/system.slice/foo.service");

  auto whole = resolveCgroup(root.string(), "");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->relative, "/");

  EXPECT_FALSE(resolveCgroup(root.string(), "/not-a-cgroup"));
  EXPECT_FALSE(resolveCgroup(root.string(), "/missing"));
  auto escape = resolveCgroup(root.string(), "../../etc");
  ASSERT_FALSE(escape);
  EXPECT_NE(escape.error().message.find("leaves the cgroup v2 hierarchy"), std::string::npos);
  fs::remove_all(root);
}

}  // namespace
}  // namespace shadowai
