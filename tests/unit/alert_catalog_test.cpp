// The alert vocabulary without journald: the shipped catalog file, docs/alerts.md and the kinds in
// code describe each other exactly (ids, priorities, and per kind the fields it may carry), the
// helpers and the call records carry only their kind's fields, field names follow journald's rules,
// MESSAGE is always one clean line, entries are composed as documented, and the rate limiter counts
// what it drops. (Delivery to a real journald is tests/integration/alert_test.cpp; nothing here may
// write to the host's journal.)
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "audit/alert_fields.h"
#include "audit/alert_kind.h"
#include "audit/alert_rate_limiter.h"
#include "audit/alerter.h"
#include "cgroup/workload.h"
#include "common/file_util.h"
#include "daemon/call_alerts.h"
#include "observe/detection.h"
#include "observe/env_keys.h"
#include "support/workload_process.h"

namespace shadowai {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCatalogPath = SHADOWAI_TEST_DATA_DIR "/../../packaging/journald/shadowai.catalog";
constexpr const char* kAlertsDocPath = SHADOWAI_TEST_DATA_DIR "/../../docs/alerts.md";

// Every SHADOWAI_* name in TEXT ("SHADOWAI_ACTION=passed" names SHADOWAI_ACTION).
std::set<std::string> fieldNamesIn(const std::string& text) {
  static const std::regex kFieldToken("SHADOWAI_[A-Z0-9_]*[A-Z0-9]");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kFieldToken); it != std::sregex_iterator(); ++it) {
    names.insert(it->str());
  }
  return names;
}

std::set<std::string> namesOf(const std::vector<AlertField>& fields) {
  std::set<std::string> names;
  for (AlertField field : fields) names.emplace(alertFieldName(field));
  return names;
}

bool isReservedName(const std::string& name) {
  return name == alertFieldName(AlertField::kAlert) || name == alertFieldName(AlertField::kSuppressed);
}

// What a text says about the fields of KIND against what the code may send with it: every field the
// kind may carry is named, and nothing else (the Alerter's own SHADOWAI_ALERT and
// SHADOWAI_SUPPRESSED apart).
void expectNamesExactlyItsFields(const AlertKindInfo& kind, const std::set<std::string>& named,
                                 const std::string& where) {
  const std::set<std::string> carried = namesOf(alertKindFields(kind.kind));
  for (const auto& name : carried) {
    EXPECT_TRUE(named.count(name)) << kind.name << " may carry " << name << ", which " << where << " does not name";
  }
  for (const auto& name : named) {
    EXPECT_TRUE(carried.count(name) || isReservedName(name))
        << where << " names " << name << " for " << kind.name
        << ", which the code never sends with it (or add it to alertKindFields())";
  }
}

struct CatalogEntry {
  std::string id;
  std::map<std::string, std::string> headers;
  std::string body;
};

// The catalog format as systemd reads it (catalog.c): '#' lines are comments, an entry starts with
// "-- <32 hex digits>" after an empty line, "Key: value" headers up to the first empty line, then
// the text.
std::vector<CatalogEntry> parseCatalog(const std::string& text) {
  std::vector<CatalogEntry> entries;
  std::istringstream lines(text);
  std::string line;
  bool afterEmpty = true;
  bool inHeaders = false;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      afterEmpty = true;
      inHeaders = false;
      continue;
    }
    if (line[0] == '#') continue;
    if (afterEmpty && line.rfind("-- ", 0) == 0) {
      entries.push_back({line.substr(3), {}, {}});
      inHeaders = true;
    } else if (entries.empty()) {
      ADD_FAILURE() << "text before the first entry: " << line;
    } else if (inHeaders) {
      auto colon = line.find(": ");
      EXPECT_NE(colon, std::string::npos) << "not a header: " << line;
      if (colon != std::string::npos) entries.back().headers[line.substr(0, colon)] = line.substr(colon + 2);
    } else {
      entries.back().body += line + "\n";
    }
    afterEmpty = false;
  }
  return entries;
}

class AlertCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto text = readFile(kCatalogPath);
    ASSERT_TRUE(text.ok()) << text.error().describe();
    text_ = *text;
    entries_ = parseCatalog(text_);
  }

  std::string text_;
  std::vector<CatalogEntry> entries_;
};

TEST_F(AlertCatalogTest, EveryKindHasExactlyOneEntryWithItsId) {
  for (const auto& kind : kAlertKinds) {
    int found = 0;
    for (const auto& entry : entries_) {
      if (entry.id != kind.messageId) continue;
      ++found;
      EXPECT_FALSE(entry.headers.count("Subject") == 0 || entry.headers.at("Subject").empty()) << kind.name;
      EXPECT_EQ(entry.headers.count("Defined-By") ? entry.headers.at("Defined-By") : "", "shadowai") << kind.name;
      EXPECT_FALSE(entry.headers.count("Support") == 0 || entry.headers.at("Support").empty()) << kind.name;
      // The text names the kind, so a reader of `journalctl -x` can tie it to SHADOWAI_ALERT.
      EXPECT_NE(entry.body.find("Alert " + std::string(kind.name) + ":"), std::string::npos) << kind.name;
    }
    EXPECT_EQ(found, 1) << kind.name << " " << kind.messageId;
  }
}

TEST_F(AlertCatalogTest, EveryEntryBelongsToAKind) {
  ASSERT_EQ(entries_.size(), kAlertKindCount);
  for (const auto& entry : entries_) {
    bool known = false;
    for (const auto& kind : kAlertKinds) known = known || kind.messageId == entry.id;
    EXPECT_TRUE(known) << "catalog entry " << entry.id << " has no kind in alert_kind.h";
  }
}

TEST_F(AlertCatalogTest, DocumentsEveryFieldAndNoUnknownOne) {
  const std::set<std::string> mentioned = fieldNamesIn(text_);
  std::set<std::string> declared;
  for (const auto& field : kAlertFields) declared.emplace(field.name);
  for (const auto& name : mentioned) EXPECT_TRUE(declared.count(name)) << name << " is not declared in alert_fields.h";
  for (const auto& name : declared) EXPECT_TRUE(mentioned.count(name)) << name << " is not explained in the catalog";
}

TEST_F(AlertCatalogTest, EachEntryNamesExactlyTheFieldsItsKindCarries) {
  for (const auto& kind : kAlertKinds) {
    for (const auto& entry : entries_) {
      if (entry.id != kind.messageId) continue;
      const std::string subject = entry.headers.count("Subject") ? entry.headers.at("Subject") : "";
      expectNamesExactlyItsFields(kind, fieldNamesIn(subject + "\n" + entry.body),
                                  "its catalog entry " + std::string(kind.messageId));
    }
  }
}

// docs/alerts.md: a "### `kind`" section per kind, whose **Fields** paragraph names fields one by
// one or by the groups of "### Field groups" ("destination", "process", "workload", "call record").
class AlertDocsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto text = readFile(kAlertsDocPath);
    ASSERT_TRUE(text.ok()) << text.error().describe();
    text_ = *text;
    std::istringstream lines(text_);
    std::string line;
    std::string* section = nullptr;
    std::string group;
    bool inGroups = false;
    while (std::getline(lines, line)) {
      if (line.starts_with("#")) {
        section = nullptr;
        inGroups = line == "### Field groups";
        group.clear();
        static const std::regex kKindHeading("### `([a-z0-9-]+)`");
        std::smatch heading;
        if (std::regex_match(line, heading, kKindHeading)) section = &sections_[heading[1].str()];
        continue;
      }
      if (section != nullptr) *section += line + "\n";
      if (inGroups) {
        // "- **Destination**: `SHADOWAI_PROVIDER` ...", continued on indented lines.
        static const std::regex kGroupStart(R"(- \*\*([A-Za-z ]+)\*\*.*)");
        std::smatch start;
        if (std::regex_match(line, start, kGroupStart)) {
          group = start[1].str();
          for (char& c : group) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (!line.starts_with("  ")) {
          group.clear();
        }
        if (!group.empty()) {
          for (const auto& name : fieldNamesIn(line)) groups_[group].insert(name);
        }
      }
    }
  }

  // The fields the section of KIND names: SHADOWAI_* anywhere in it, and the groups its **Fields**
  // paragraph lists ("..., process, workload, and the call record.").
  std::set<std::string> namedIn(const std::string& section) const {
    std::set<std::string> named = fieldNamesIn(section);
    const size_t start = section.find("**Fields**:");
    if (start == std::string::npos) return named;
    const size_t end = section.find("\n\n", start);
    const std::string fields = section.substr(start, end == std::string::npos ? std::string::npos : end - start);
    for (const auto& [group, members] : groups_) {
      const std::regex reference("(^|[^a-z_`])" + group + "([^a-z_`]|$)");
      if (std::regex_search(fields, reference)) named.insert(members.begin(), members.end());
    }
    return named;
  }

  std::string text_;
  std::map<std::string, std::string> sections_;            // kind name -> its section's text
  std::map<std::string, std::set<std::string>> groups_;    // "destination" -> its fields
};

TEST_F(AlertDocsTest, HasTheFieldGroupsItRefersTo) {
  for (const char* group : {"destination", "process", "workload", "call record"}) {
    EXPECT_FALSE(groups_[group].empty()) << "no field group \"" << group << "\" in docs/alerts.md";
  }
}

TEST_F(AlertDocsTest, ListsEveryKindWithItsIdPriorityAndRateLimit) {
  EXPECT_EQ(sections_.size(), kAlertKindCount) << "one \"### `kind`\" section per kind, and no other";
  for (const auto& kind : kAlertKinds) {
    const std::string name(kind.name);
    const std::string priority = std::to_string(kind.priority) + " " + std::string(priorityName(kind.priority));
    const std::string row = "| [`" + name + "`](#" + name + ") | `" + std::string(kind.messageId) + "` | " + priority +
                            " | " + (kind.everyEvent ? "no" : "yes") + " |";
    EXPECT_NE(text_.find(row + "\n"), std::string::npos) << "the kinds table lacks the row " << row;
    ASSERT_TRUE(sections_.count(name)) << "docs/alerts.md has no section for " << name;
    const std::string& section = sections_.at(name);
    const std::string header = "`MESSAGE_ID=" + std::string(kind.messageId) + "`, priority " +
                               std::to_string(kind.priority) + " (" + std::string(priorityName(kind.priority)) + ").";
    EXPECT_NE(section.find(header), std::string::npos) << name << ": its section should start " << header;
    EXPECT_EQ(section.find("Never rate limited.") != std::string::npos, kind.everyEvent) << name;
  }
}

TEST_F(AlertDocsTest, EachKindNamesExactlyTheFieldsItCarries) {
  for (const auto& kind : kAlertKinds) {
    auto section = sections_.find(std::string(kind.name));
    ASSERT_NE(section, sections_.end()) << kind.name;
    expectNamesExactlyItsFields(kind, namedIn(section->second), "its section of docs/alerts.md");
  }
}

// The field lists are only worth their tests if the senders keep to them: what the helpers and the
// call records (call_alerts.cpp) produce, with every optional part present, is within the kind's list.
void expectCarriedBy(AlertKind kind, const AlertFields& fields) {
  for (const auto& [field, value] : fields.entries()) {
    EXPECT_TRUE(alertKindMayCarry(kind, field))
        << alertKindInfo(kind).name << " is sent with " << alertFieldName(field)
        << ": add it to alertKindFields(), its catalog entry and docs/alerts.md";
  }
}

ProcessIdentity everyProcessDetail() {
  ProcessIdentity process = test::serviceProcess(1234, "docker-" + std::string(64, 'a') + ".scope", 1000, "alice",
                                                 "python3", "/usr/bin/python3.11");
  process.cmdline = "python3 etl.py";
  return process;
}

TEST(AlertKindFieldsTest, TheHelpersAddOnlyTheirKindsFields) {
  // (CatalogEntry alone is this file's catalog-file entry.)
  shadowai::CatalogEntry openai{"openai", "OpenAI", "openai", EndpointCategory::kHosted,
                                {"api.openai.com"}, {443}, {}, ""};
  Detection detection;
  detection.process = everyProcessDetail();
  detection.remote = *IpAddress::parse("192.0.2.7");
  detection.port = 443;
  detection.classification =
      Classification{CatalogMatch{&openai, "api.openai.com"}, MatchMethod::kSni, "api.openai.com"};
  AlertFields detected;
  detected.addDetection(detection);
  EXPECT_NE(detected.find(AlertField::kContainer), nullptr);
  expectCarriedBy(AlertKind::kLlmCallDetected, detected);

  AlertFields key;
  key.addEnvKey(EnvKeyFinding{77, "OPENAI_API_KEY", keyFingerprint("sk-live-secret")})
      .addProcess(everyProcessDetail())
      .addWorkload(workloadFromCgroupPath(everyProcessDetail().cgroupPath))
      .add(AlertField::kProvider, "openai");
  expectCarriedBy(AlertKind::kEnvKeyDetected, key);
}

TEST(AlertKindFieldsTest, CallRecordsCarryOnlyTheirKindsFields) {
  auto target = std::make_shared<InterceptTarget>();
  target->host = "api.openai.com";
  // As ConnectionRouter::decide() starts every alert of an intercepted connection.
  target->alertFields.add(AlertField::kProvider, "openai")
      .add(AlertField::kHost, "api.openai.com")
      .add(AlertField::kMatch, "sni")
      .add(AlertField::kAddress, "192.0.2.7")
      .add(AlertField::kPort, 443)
      .add(AlertField::kProtocol, "tcp")
      .addProcess(everyProcessDetail())
      .addWorkload(workloadFromCgroupPath(everyProcessDetail().cgroupPath));
  for (CallOutcome outcome : {CallOutcome::kForwarded, CallOutcome::kRefused, CallOutcome::kBlocked,
                              CallOutcome::kUpstreamFailed, CallOutcome::kClientTlsFailed}) {
    InterceptedCall call;
    call.target = target;
    call.outcome = outcome;
    call.method = "POST";
    call.path = "/v1/chat/completions";
    call.api = ApiKind::kOpenAiChat;
    call.model = "gpt-4o";
    call.streaming = true;
    call.status = 200;
    call.reason = "the client went away during the answer";
    call.credential = CallCredential::kManaged;
    call.managedKeyLabel = "billing";
    call.clientKeyFingerprint = keyFingerprint("sk-client");
    call.requestBytes = 100;
    call.responseBytes = 2000;
    call.streamedEvents = 12;
    call.usage = Usage{10, 20};
    call.latency = std::chrono::milliseconds(900);
    call.timeToFirstByte = std::chrono::milliseconds(300);
    call.rule = "mask-emails";
    call.masked = {DetectorHits{"email", DetectorCategory::kPii, MaskSite::kRequest, 2},
                   DetectorHits{"email", DetectorCategory::kPii, MaskSite::kResponse, 1}};
    const AlertFields fields = interceptedCallFields(call);
    EXPECT_NE(fields.find(AlertField::kAction), nullptr);
    expectCarriedBy(interceptedCallAlertKind(call), fields);
  }
}

TEST(AlertKindTest, NamesRoundTripAndPrioritiesFollowTheDesign) {
  for (const auto& kind : kAlertKinds) {
    auto back = alertKindFromName(kind.name);
    ASSERT_TRUE(back.has_value()) << kind.name;
    EXPECT_EQ(*back, kind.kind);
  }
  EXPECT_FALSE(alertKindFromName("LLM-CALL-DETECTED").has_value());
  EXPECT_FALSE(alertKindFromName("").has_value());
  EXPECT_EQ(priorityName(alertKindInfo(AlertKind::kLlmCallDetected).priority), "warning");
  EXPECT_EQ(priorityName(alertKindInfo(AlertKind::kQuicRefused).priority), "notice");
  EXPECT_EQ(priorityName(alertKindInfo(AlertKind::kModeChanged).priority), "notice");
  EXPECT_EQ(priorityName(alertKindInfo(AlertKind::kEnforcementResumed).priority), "err");
  EXPECT_EQ(priorityName(alertKindInfo(AlertKind::kEventsLost).priority), "err");
  EXPECT_EQ(priorityName(alertKindInfo(AlertKind::kDaemonStarted).priority), "info");
  EXPECT_EQ(priorityName(42), "unknown");
}

TEST(AlertFieldNameTest, FollowsJournaldRulesAndOurPrefix) {
  for (const auto& field : kAlertFields) EXPECT_TRUE(isValidAlertFieldName(field.name)) << field.name;
  EXPECT_TRUE(isValidAlertFieldName("SHADOWAI_UNIT"));
  EXPECT_TRUE(isValidAlertFieldName("SHADOWAI_X1"));
  EXPECT_TRUE(isValidAlertFieldName("SHADOWAI_" + std::string(55, 'A')));  // 64 bytes
  EXPECT_FALSE(isValidAlertFieldName("SHADOWAI_" + std::string(56, 'A')));
  EXPECT_FALSE(isValidAlertFieldName(""));
  EXPECT_FALSE(isValidAlertFieldName("SHADOWAI_"));
  EXPECT_FALSE(isValidAlertFieldName("UNIT"));
  EXPECT_FALSE(isValidAlertFieldName("_SHADOWAI_UNIT"));  // '_' fields are journald's trusted ones
  EXPECT_FALSE(isValidAlertFieldName("shadowai_unit"));
  EXPECT_FALSE(isValidAlertFieldName("SHADOWAI_Unit"));
  EXPECT_FALSE(isValidAlertFieldName("SHADOWAI-UNIT"));
  EXPECT_FALSE(isValidAlertFieldName("SHADOWAI_UNIT="));
  EXPECT_FALSE(isValidAlertFieldName("SHADOWAI_UNIT NAME"));
}

TEST(AlertFieldsTest, KeepsOrderAndReplacesARepeatedField) {
  AlertFields fields;
  fields.add(AlertField::kUnit, "a.service").add(AlertField::kPid, 42).add(AlertField::kUnit, std::string("b.service"));
  fields.add(AlertField::kPort, uint16_t{443});
  ASSERT_EQ(fields.entries().size(), 3u);
  EXPECT_EQ(fields.entries()[0], (std::pair<AlertField, std::string>{AlertField::kUnit, "b.service"}));
  EXPECT_EQ(fields.entries()[1], (std::pair<AlertField, std::string>{AlertField::kPid, "42"}));
  EXPECT_EQ(fields.entries()[2], (std::pair<AlertField, std::string>{AlertField::kPort, "443"}));
  EXPECT_EQ(fields.find(AlertField::kHost), nullptr);
}

TEST(AlertFieldsTest, ProcessHelperSkipsUnknownsAndNeverCarriesTheCommandLine) {
  ProcessIdentity process = everyProcessDetail();
  process.cmdline = "python3 etl.py --api-key sk-live-secret";
  process.cgroupPath = "/system.slice/billing-etl.service";
  AlertFields fields;
  fields.addProcess(process);
  std::map<AlertField, std::string> got(fields.entries().begin(), fields.entries().end());
  EXPECT_EQ(got, (std::map<AlertField, std::string>{{AlertField::kPid, "1234"},
                                                     {AlertField::kUid, "1000"},
                                                     {AlertField::kUser, "alice"},
                                                     {AlertField::kComm, "python3"},
                                                     {AlertField::kExe, "/usr/bin/python3.11"},
                                                     {AlertField::kCgroup, "/system.slice/billing-etl.service"}}));

  AlertFields unknown;
  unknown.addProcess(ProcessIdentity{});  // an skb event: no task behind it
  EXPECT_TRUE(unknown.empty());
}

TEST(AlertFieldsTest, WorkloadAndEnvKeyHelpers) {
  AlertFields fields;
  fields.addWorkload(workloadFromCgroupPath("/system.slice/billing-etl.service"));
  EXPECT_EQ(*fields.find(AlertField::kUnit), "billing-etl.service");
  EXPECT_EQ(*fields.find(AlertField::kWorkload), "billing-etl.service");
  EXPECT_EQ(*fields.find(AlertField::kCgroup), "/system.slice/billing-etl.service");
  EXPECT_EQ(fields.find(AlertField::kContainer), nullptr);

  const std::string id(64, 'a');
  AlertFields container;
  container.addWorkload(workloadFromCgroupPath("/system.slice/docker-" + id + ".scope"));
  ASSERT_NE(container.find(AlertField::kContainer), nullptr);
  EXPECT_EQ(*container.find(AlertField::kContainer), "docker:" + id);

  AlertFields key;
  key.addEnvKey(EnvKeyFinding{77, "OPENAI_API_KEY", keyFingerprint("sk-live-secret")});
  ASSERT_EQ(key.entries().size(), 3u);
  EXPECT_EQ(*key.find(AlertField::kVariable), "OPENAI_API_KEY");
  EXPECT_EQ(*key.find(AlertField::kFingerprint), keyFingerprint("sk-live-secret"));
  for (const auto& [field, value] : key.entries()) EXPECT_EQ(value.find("sk-live"), std::string::npos);
}

TEST(AlertMessageTest, BecomesOneLine) {
  const auto kind = AlertKind::kLlmCallDetected;
  EXPECT_EQ(oneLineAlertMessage("billing-etl.service called openai", kind), "billing-etl.service called openai");
  EXPECT_EQ(oneLineAlertMessage("first\nsecond", kind), "first second");
  EXPECT_EQ(oneLineAlertMessage("\r\n\t  a \x1b[31m b\x7f\n\n", kind), "a [31m b");
  EXPECT_EQ(oneLineAlertMessage("a\xC2\x85z", kind), "a z");  // U+0085 NEXT LINE, a C1 control
  EXPECT_EQ(oneLineAlertMessage(std::string("nul\0byte", 8), kind), "nul byte");
  EXPECT_EQ(oneLineAlertMessage("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82", kind),
            "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82");
}

TEST(AlertMessageTest, ReplacesInvalidUtf8AndFallsBackToTheKindName) {
  const std::string replacement = "\xEF\xBF\xBD";
  const auto kind = AlertKind::kEventsLost;
  EXPECT_EQ(oneLineAlertMessage("a\xFFz", kind), "a" + replacement + "z");
  EXPECT_EQ(oneLineAlertMessage("\xC0\xAF", kind), replacement + replacement);      // overlong '/'
  EXPECT_EQ(oneLineAlertMessage("\xED\xA0\x80", kind), replacement + replacement + replacement);  // surrogate
  EXPECT_EQ(oneLineAlertMessage("cut \xE6\x97", kind), "cut " + replacement + replacement);
  EXPECT_EQ(oneLineAlertMessage("", kind), "events-lost");
  EXPECT_EQ(oneLineAlertMessage(" \n\t ", kind), "events-lost");
}

TEST(AlertMessageTest, IsCutAtACharacterBoundary) {
  std::string longText = "a";
  for (int i = 0; i < 600; ++i) longText += "\xC3\xA9";  // 'é', two bytes
  const std::string cut = oneLineAlertMessage(longText, AlertKind::kLlmCallDetected);
  EXPECT_EQ(cut.size(), 1023u);  // 1 + 511 * 2; one more 'é' would pass 1024
  EXPECT_EQ(cut, longText.substr(0, 1023));
  EXPECT_EQ(oneLineAlertMessage(std::string(5000, 'x'), AlertKind::kLlmCallDetected).size(), kMaxAlertMessageBytes);
}

TEST(AlertJournalItemsTest, ComposesTheEntryInDocumentedOrder) {
  AlertFields fields;
  fields.add(AlertField::kUnit, "billing-etl.service").add(AlertField::kReason, "line one\nline two");
  auto items = alertJournalItems(AlertKind::kLlmCallDetected, "billing-etl.service\ncalled openai", fields, 0);
  ASSERT_TRUE(items.ok()) << items.error().describe();
  EXPECT_EQ(*items, (std::vector<std::string>{
                        "MESSAGE_ID=0752dfe49ed4409792868a536d15c86f",
                        "PRIORITY=4",
                        "SYSLOG_IDENTIFIER=shadowaid",
                        "MESSAGE=billing-etl.service called openai",
                        "SHADOWAI_ALERT=llm-call-detected",
                        "SHADOWAI_UNIT=billing-etl.service",
                        "SHADOWAI_REASON=line one\nline two",  // binary-safe fields keep newlines
                    }));

  auto withCount = alertJournalItems(AlertKind::kEventsLost, "lost", {}, 7);
  ASSERT_TRUE(withCount.ok());
  ASSERT_EQ(withCount->size(), 6u);
  EXPECT_EQ((*withCount)[1], "PRIORITY=3");
  EXPECT_EQ((*withCount)[5], "SHADOWAI_SUPPRESSED=7");
}

TEST(AlertJournalItemsTest, RefusesReservedFieldsFromTheCaller) {
  for (auto reserved : {AlertField::kAlert, AlertField::kSuppressed}) {
    AlertFields fields;
    fields.add(AlertField::kUnit, "x.service").add(reserved, "1");
    auto items = alertJournalItems(AlertKind::kModeChanged, "m", fields, 0);
    ASSERT_FALSE(items.ok());
    EXPECT_NE(items.error().message.find(std::string(alertFieldName(reserved))), std::string::npos)
        << items.error().message;
  }
}

TEST(AlertStderrLineTest, IsOneHumanLine) {
  EXPECT_EQ(alertStderrLine(AlertKind::kQuicRefused, "QUIC to api.openai.com\nrefused", 0),
            "shadowaid: notice: quic-refused: QUIC to api.openai.com refused\n");
  EXPECT_EQ(alertStderrLine(AlertKind::kEventsLost, "12 events lost", 3),
            "shadowaid: err: events-lost: 12 events lost (3 similar suppressed)\n");
}

TEST(AlertRateLimiterTest, CountsWhatItDropsAndHandsTheCountToTheNextAlert) {
  AlertRateLimiter limiter(AlertRateLimit{3, 1s});
  const auto start = AlertRateLimiter::Clock::time_point{} + 1h;
  const auto kind = AlertKind::kLlmCallDetected;
  for (int i = 0; i < 3; ++i) {
    auto admission = limiter.admit(kind, start);
    EXPECT_TRUE(admission.admitted);
    EXPECT_EQ(admission.suppressedBefore, 0u);
  }
  EXPECT_FALSE(limiter.admit(kind, start).admitted);
  EXPECT_FALSE(limiter.admit(kind, start).admitted);
  EXPECT_FALSE(limiter.admit(kind, start + 500ms).admitted);  // half a token
  // Other kinds have buckets of their own.
  EXPECT_TRUE(limiter.admit(AlertKind::kEventsLost, start).admitted);

  auto next = limiter.admit(kind, start + 1500ms);  // 1.5 tokens
  EXPECT_TRUE(next.admitted);
  EXPECT_EQ(next.suppressedBefore, 3u);
  EXPECT_FALSE(limiter.admit(kind, start + 1600ms).admitted);  // 0.6 tokens
  EXPECT_EQ(limiter.totalSuppressed(kind), 4u);
  EXPECT_EQ(limiter.totalSuppressed(AlertKind::kEventsLost), 0u);

  // A long quiet spell refills up to the burst, not beyond.
  const auto later = start + 100s;
  auto first = limiter.admit(kind, later);
  EXPECT_TRUE(first.admitted);
  EXPECT_EQ(first.suppressedBefore, 1u);
  EXPECT_TRUE(limiter.admit(kind, later).admitted);
  EXPECT_TRUE(limiter.admit(kind, later).admitted);
  EXPECT_FALSE(limiter.admit(kind, later).admitted);
  EXPECT_EQ(limiter.totalSuppressed(kind), 5u);
}

TEST(AlertRateLimiterTest, ARestoredCountRidesOnTheNextAlert) {
  AlertRateLimiter limiter(AlertRateLimit{1, 1s});
  const auto start = AlertRateLimiter::Clock::time_point{} + 1h;
  const auto kind = AlertKind::kQuicRefused;
  EXPECT_TRUE(limiter.admit(kind, start).admitted);
  EXPECT_FALSE(limiter.admit(kind, start).admitted);
  EXPECT_FALSE(limiter.admit(kind, start).admitted);
  auto admitted = limiter.admit(kind, start + 2s);
  ASSERT_TRUE(admitted.admitted);
  ASSERT_EQ(admitted.suppressedBefore, 2u);
  limiter.restoreSuppressed(kind, admitted.suppressedBefore);  // delivery failed
  auto retried = limiter.admit(kind, start + 4s);
  EXPECT_TRUE(retried.admitted);
  EXPECT_EQ(retried.suppressedBefore, 2u);
  EXPECT_EQ(limiter.totalSuppressed(kind), 2u);  // restoring does not count twice
}

}  // namespace
}  // namespace shadowai
