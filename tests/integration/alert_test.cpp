// Alerts against a real systemd-journald of the test's own (TestJournald, inside the test's mount
// namespace): the Alerter sends through libsystemd as the daemon does, and the test reads back with
// `journalctl -o json` and journalctl's own field matches, as an operator or a SIEM would.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "audit/alerter.h"
#include "catalog/catalog.h"
#include "common/file_util.h"
#include "observe/detection.h"
#include "support/child_process.h"
#include "support/journald.h"
#include "support/require_root.h"
#include "support/temp_dir.h"
#include "support/test_namespace.h"

namespace shadowai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kWait = 10s;
// The shipped catalog, found from the source tree's rules/ directory (a compile definition of the
// core library).
constexpr const char* kCatalogPath = SHADOWAI_SOURCE_RULES_DIR "/../packaging/journald/shadowai.catalog";

#define ASSERT_OK(expression)                                              \
  do {                                                                     \
    auto&& assertOkResult = (expression);                                  \
    ASSERT_TRUE(assertOkResult.ok()) << assertOkResult.error().describe(); \
  } while (0)

std::string matchOf(AlertField field, const std::string& value) {
  return std::string(alertFieldName(field)) + "=" + value;
}

std::string text(const json& entry, const std::string& name) { return journalField(entry, name).value_or("<missing>"); }

// Every SHADOWAI_* field of an entry, decoded.
std::map<std::string, std::string> shadowaiFields(const json& entry) {
  std::map<std::string, std::string> fields;
  for (const auto& [name, value] : entry.items()) {
    if (name.rfind("SHADOWAI_", 0) == 0) fields[name] = journalField(entry, name).value_or("<not one value>");
  }
  return fields;
}

class AlertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    ASSERT_TRUE(insideTestNamespaces());
    ASSERT_OK(journald_.start());
  }

  TestJournald journald_;
};

TEST_F(AlertTest, EveryKindArrivesWithItsIdPriorityAndExactlyItsFields) {
  Alerter alerter;
  for (size_t i = 0; i < kAlertKindCount; ++i) {
    const auto& info = kAlertKinds[i];
    AlertFields fields;
    fields.add(AlertField::kUnit, std::string(info.name) + ".service")
        .add(AlertField::kPid, 1000 + static_cast<int>(i))
        .add(AlertField::kReason, "first line\nsecond line")  // journald's binary-safe form
        .add(AlertField::kExe, "/opt/caf\xE9/bin/job");        // a path need not be UTF-8
    ASSERT_OK(alerter.send(info.kind, std::string(info.name) + " seen\nby the test", fields));
  }

  auto entries = journald_.waitForEntries({"SYSLOG_IDENTIFIER=shadowaid"}, kAlertKindCount, kWait);
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), kAlertKindCount) << journald_.logText();
  for (size_t i = 0; i < kAlertKindCount; ++i) {
    const auto& info = kAlertKinds[i];
    const json& entry = (*entries)[i];  // oldest first: the order they were sent
    SCOPED_TRACE(std::string(info.name));
    EXPECT_EQ(text(entry, "MESSAGE_ID"), info.messageId);
    EXPECT_EQ(text(entry, "PRIORITY"), std::to_string(info.priority));
    EXPECT_EQ(text(entry, "SYSLOG_IDENTIFIER"), "shadowaid");
    EXPECT_EQ(text(entry, "MESSAGE"), std::string(info.name) + " seen by the test");
    EXPECT_EQ(text(entry, "_TRANSPORT"), "journal");
    EXPECT_EQ(shadowaiFields(entry), (std::map<std::string, std::string>{
                                         {"SHADOWAI_ALERT", std::string(info.name)},
                                         {"SHADOWAI_UNIT", std::string(info.name) + ".service"},
                                         {"SHADOWAI_PID", std::to_string(1000 + i)},
                                         {"SHADOWAI_REASON", "first line\nsecond line"},
                                         {"SHADOWAI_EXE", "/opt/caf\xE9/bin/job"},
                                     }));
    // journalctl prints a value that is not UTF-8 as bytes; journalField decoded it above.
    EXPECT_TRUE(entry.at("SHADOWAI_EXE").is_array());
  }
}

TEST_F(AlertTest, OperatorsFilterOnFieldsNotOnMessage) {
  CatalogEntry openai;
  openai.providerId = "openai";
  CatalogEntry anthropic;
  anthropic.providerId = "anthropic";
  auto detection = [](const CatalogEntry& provider, const std::string& host, const std::string& cgroup, int pid) {
    Detection found;
    found.process.pid = pid;
    found.process.uid = 1000;
    found.process.userName = "etl";
    found.process.comm = "python3";
    found.process.exe = "/usr/bin/python3.11";
    found.process.cmdline = "python3 job.py --key sk-never-logged";
    found.process.cgroupPath = cgroup;
    found.remote = *IpAddress::parse("127.0.0.2");
    found.port = 443;
    found.classification = Classification{CatalogMatch{&provider, host}, MatchMethod::kSni, host};
    return found;
  };

  Alerter alerter;
  ASSERT_OK(alerter.send(AlertKind::kLlmCallDetected, "billing-etl.service called openai",
                         AlertFields().addDetection(
                             detection(openai, "api.openai.com", "/system.slice/billing-etl.service", 4242))));
  ASSERT_OK(alerter.send(AlertKind::kLlmCallDetected, "reports.service called anthropic",
                         AlertFields().addDetection(
                             detection(anthropic, "api.anthropic.com", "/system.slice/reports.service", 4343))));
  ASSERT_OK(alerter.send(AlertKind::kDaemonStarted, "started", AlertFields().add(AlertField::kVersion, "0.1.0")));

  const std::string llmCall = "MESSAGE_ID=" + std::string(alertKindInfo(AlertKind::kLlmCallDetected).messageId);
  auto calls = journald_.waitForEntries({llmCall}, 2, kWait);
  ASSERT_OK(calls);
  EXPECT_EQ(calls->size(), 2u);

  // `journalctl SHADOWAI_UNIT=billing-etl.service`
  auto billing = journald_.readEntries({matchOf(AlertField::kUnit, "billing-etl.service")});
  ASSERT_OK(billing);
  ASSERT_EQ(billing->size(), 1u);
  EXPECT_EQ(shadowaiFields(billing->front()), (std::map<std::string, std::string>{
                                                  {"SHADOWAI_ALERT", "llm-call-detected"},
                                                  {"SHADOWAI_PROVIDER", "openai"},
                                                  {"SHADOWAI_HOST", "api.openai.com"},
                                                  {"SHADOWAI_MATCH", "sni"},
                                                  {"SHADOWAI_ADDRESS", "127.0.0.2"},
                                                  {"SHADOWAI_PORT", "443"},
                                                  {"SHADOWAI_PROTOCOL", "tcp"},
                                                  {"SHADOWAI_PID", "4242"},
                                                  {"SHADOWAI_UID", "1000"},
                                                  {"SHADOWAI_USER", "etl"},
                                                  {"SHADOWAI_COMM", "python3"},
                                                  {"SHADOWAI_EXE", "/usr/bin/python3.11"},
                                                  {"SHADOWAI_CGROUP", "/system.slice/billing-etl.service"},
                                                  {"SHADOWAI_WORKLOAD", "billing-etl.service"},
                                                  {"SHADOWAI_UNIT", "billing-etl.service"},
                                              }));
  EXPECT_EQ(billing->front().dump().find("sk-never-logged"), std::string::npos);

  // DESIGN.md's example: `journalctl -t shadowaid SHADOWAI_PROVIDER=openai`.
  auto openaiCalls = journald_.readEntries({"SYSLOG_IDENTIFIER=shadowaid", matchOf(AlertField::kProvider, "openai")});
  ASSERT_OK(openaiCalls);
  ASSERT_EQ(openaiCalls->size(), 1u);
  EXPECT_EQ(text(openaiCalls->front(), "SHADOWAI_PID"), "4242");

  // Two values of one field are OR-ed by journalctl.
  auto both = journald_.readEntries({matchOf(AlertField::kUnit, "billing-etl.service"),
                                     matchOf(AlertField::kUnit, "reports.service")});
  ASSERT_OK(both);
  EXPECT_EQ(both->size(), 2u);

  auto nobody = journald_.readEntries({matchOf(AlertField::kUnit, "unknown.service")});
  ASSERT_OK(nobody);
  EXPECT_TRUE(nobody->empty());
}

TEST_F(AlertTest, SuppressedCountArrivesWithTheNextAlertOfThatKind) {
  AlerterOptions options;
  options.rateLimit = AlertRateLimit{2, 1s};
  Alerter alerter(options);
  auto now = Alerter::Clock::time_point{} + 1h;
  alerter.setClockForTest([&now] { return now; });

  for (int i = 0; i < 5; ++i) {  // a storm: 2 go out, 3 are dropped
    ASSERT_OK(alerter.send(AlertKind::kLlmCallDetected, "storm", AlertFields().add(AlertField::kPid, i)));
  }
  ASSERT_OK(alerter.send(AlertKind::kQuicRefused, "other kind", AlertFields().add(AlertField::kPid, 99)));
  EXPECT_EQ(alerter.suppressedCount(AlertKind::kLlmCallDetected), 3u);
  EXPECT_EQ(alerter.suppressedCount(AlertKind::kQuicRefused), 0u);
  now += 1s;
  ASSERT_OK(alerter.send(AlertKind::kLlmCallDetected, "after the storm", AlertFields().add(AlertField::kPid, 5)));

  const std::string llmCall = "MESSAGE_ID=" + std::string(alertKindInfo(AlertKind::kLlmCallDetected).messageId);
  auto entries = journald_.waitForEntries({llmCall}, 3, kWait);
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ(text((*entries)[0], "SHADOWAI_PID"), "0");
  EXPECT_EQ(text((*entries)[1], "SHADOWAI_PID"), "1");
  EXPECT_EQ(text((*entries)[2], "SHADOWAI_PID"), "5");
  EXPECT_FALSE(journalField((*entries)[0], "SHADOWAI_SUPPRESSED").has_value());
  EXPECT_FALSE(journalField((*entries)[1], "SHADOWAI_SUPPRESSED").has_value());
  EXPECT_EQ(text((*entries)[2], "SHADOWAI_SUPPRESSED"), "3");

  auto suppressed = journald_.readEntries({matchOf(AlertField::kSuppressed, "3")});
  ASSERT_OK(suppressed);
  EXPECT_EQ(suppressed->size(), 1u);
  auto quic = journald_.readEntries({matchOf(AlertField::kAlert, "quic-refused")});
  ASSERT_OK(quic);
  ASSERT_EQ(quic->size(), 1u);
  EXPECT_FALSE(journalField(quic->front(), "SHADOWAI_SUPPRESSED").has_value());
}

// journald is gone (killed; its socket stays, with nobody behind it): sending still returns at once,
// every alert is counted as lost (call records apart), and when journald is back one alerts-lost
// entry says how many.
TEST_F(AlertTest, AlertsLostWhileJournaldIsDownAreCountedAndReportedWhenItIsBack) {
  Alerter alerter;
  ASSERT_OK(alerter.send(AlertKind::kDaemonStarted, "started"));
  ASSERT_OK(journald_.waitForEntries({"SYSLOG_IDENTIFIER=shadowaid"}, 1, kWait));
  ASSERT_OK(journald_.killDaemonForTest());
  ASSERT_OK(alerter.send(AlertKind::kLlmCallIntercepted, "call 1"));
  ASSERT_OK(alerter.send(AlertKind::kLlmCallBlocked, "call 2"));
  ASSERT_OK(alerter.send(AlertKind::kDaemonStopping, "stopping"));
  ASSERT_TRUE(alerter.flush(kWait));
  AlertDeliveryCounts counts = alerter.deliveryCounts();
  EXPECT_EQ(counts.delivered, 1u);
  EXPECT_EQ(counts.lostRefused, 3u);
  EXPECT_EQ(counts.lostCallRecords, 2u);
  EXPECT_EQ(counts.lostQueueFull, 0u);
  EXPECT_EQ(counts.lostReports, 0u);

  ASSERT_OK(journald_.startDaemon());
  auto reports = journald_.waitForEntries({matchOf(AlertField::kAlert, "alerts-lost")}, 1, kWait);
  ASSERT_OK(reports);
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ(text(reports->front(), "SHADOWAI_LOST_ALERTS"), "3");
  EXPECT_EQ(text(reports->front(), "SHADOWAI_LOST_CALL_RECORDS"), "2");
  EXPECT_EQ(text(reports->front(), "PRIORITY"), "3");
  EXPECT_EQ(alerter.deliveryCounts().lostReports, 1u);
  // Nothing else was lost since: the next alert arrives without another report.
  ASSERT_OK(alerter.send(AlertKind::kDaemonStopping, "stopping again"));
  ASSERT_OK(journald_.waitForEntries({matchOf(AlertField::kAlert, "daemon-stopping")}, 1, kWait));
  auto again = journald_.readEntries({matchOf(AlertField::kAlert, "alerts-lost")});
  ASSERT_OK(again);
  EXPECT_EQ(again->size(), 1u);
}

// journald paused (SIGSTOP) with the kernel's 10 datagrams queued on its socket: the writer blocks,
// the sender never does. What does not fit the Alerter's queue is counted, the rest arrives once
// journald reads again, and one report names exactly what was lost.
TEST_F(AlertTest, APausedJournaldNeverBlocksTheSenderAndLossesAreCountedExactly) {
  AlerterOptions options;
  options.queueCapacity = 8;
  Alerter alerter(options);
  ASSERT_OK(journald_.pauseForTest());
  TestJournald::ResumeAtExit resumeEvenOnFailure{journald_};
  constexpr uint64_t kSent = 200;
  for (uint64_t i = 0; i < kSent; ++i) {
    ASSERT_OK(alerter.send(AlertKind::kLlmCallIntercepted, "call " + std::to_string(i),
                           AlertFields().add(AlertField::kPid, i)));
  }
  AlertDeliveryCounts during = alerter.deliveryCounts();
  EXPECT_GT(during.lostQueueFull, 0u);
  EXPECT_EQ(during.delivered + during.queued + during.lostQueueFull, kSent);
  EXPECT_EQ(during.lostCallRecords, during.lostQueueFull);

  ASSERT_OK(journald_.resumeForTest());
  ASSERT_TRUE(alerter.flush(kWait));
  AlertDeliveryCounts after = alerter.deliveryCounts();
  EXPECT_EQ(after.delivered + after.lostQueueFull, kSent);
  EXPECT_EQ(after.lostQueueFull, during.lostQueueFull);
  EXPECT_EQ(after.lostRefused, 0u);
  auto calls = journald_.waitForEntries({matchOf(AlertField::kAlert, "llm-call-intercepted")}, after.delivered, kWait);
  ASSERT_OK(calls);
  EXPECT_EQ(calls->size(), after.delivered);
  auto reports = journald_.waitForEntries({matchOf(AlertField::kAlert, "alerts-lost")}, 1, kWait);
  ASSERT_OK(reports);
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ(text(reports->front(), "SHADOWAI_LOST_ALERTS"), std::to_string(after.lostQueueFull));
  EXPECT_EQ(text(reports->front(), "SHADOWAI_LOST_CALL_RECORDS"), std::to_string(after.lostQueueFull));
}

TEST_F(AlertTest, SystemdAcceptsTheShippedCatalog) {
  auto root = TempDir::create("shadowai-catalog-root");
  ASSERT_OK(root);
  const std::filesystem::path catalogDir = std::filesystem::path(root->path()) / "usr/lib/systemd/catalog";
  std::filesystem::create_directories(catalogDir);
  std::filesystem::copy_file(kCatalogPath, catalogDir / "shadowai.catalog");

  // systemd's own parser builds the catalog database, as the package's post-install step will.
  auto update = ChildProcess::spawn({"journalctl", "--root=" + root->path(), "--update-catalog"});
  ASSERT_OK(update);
  auto updated = update->wait(kWait);
  ASSERT_OK(updated);
  ASSERT_EQ(*updated, 0) << update->describeOutput();

  auto list = ChildProcess::spawn({"journalctl", "--root=" + root->path(), "--list-catalog"});
  ASSERT_OK(list);
  auto listed = list->wait(kWait);
  ASSERT_OK(listed);
  ASSERT_EQ(*listed, 0) << list->describeOutput();
  // "<id> shadowai: <subject>", one line per entry.
  const std::string output = list->stdoutText();
  std::set<std::string> ids;
  size_t lines = 0;
  for (size_t start = 0; start < output.size();) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    ++lines;
    ids.insert(line.substr(0, 32));
    EXPECT_EQ(line.substr(32, 11), " shadowai: ") << line;
  }
  EXPECT_EQ(lines, kAlertKindCount) << output;
  for (const auto& kind : kAlertKinds) EXPECT_TRUE(ids.count(std::string(kind.messageId))) << kind.name;
}

}  // namespace
}  // namespace shadowai::test
