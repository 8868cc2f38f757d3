#include "mask/detector_set.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "mask_test_values.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

Detector patternDetector(std::string name, std::string pattern) {
  Detector detector;
  detector.name = std::move(name);
  detector.label = "L";
  detector.pattern = std::move(pattern);
  return detector;
}

Detector wordDetector(std::string name, std::vector<std::string> words) {
  Detector detector;
  detector.name = std::move(name);
  detector.label = "WORD";
  detector.words = std::move(words);
  detector.category = DetectorCategory::kCustom;
  return detector;
}

std::shared_ptr<const DetectorSet> compileOrDie(std::vector<Detector> detectors) {
  auto set = DetectorSet::compile(std::move(detectors));
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().describe());
  return set.ok() ? *set : nullptr;
}

std::shared_ptr<const DetectorSet> builtins() {
  static auto set = compileOrDie(shippedDetectors());
  return set;
}

TEST(MaskDetectorSet, OverlapsEarliestStartThenLongerWins) {
  auto set = compileOrDie({patternDetector("short", "abc"), patternDetector("long", "bcdef"),
                           patternDetector("longer-same-start", "abcd"), patternDetector("later", "ef12")});
  ASSERT_NE(set, nullptr);
  std::vector<DetectorMatch> matches;
  ASSERT_TRUE(set->scan("xxabcdef12", set->all(), matches).ok());
  // "abcd": earliest start, longer than "abc"; "bcdef" overlaps it and loses; "ef12" starts after it.
  EXPECT_EQ(matches, (std::vector<DetectorMatch>{{2, 2, 6}, {3, 6, 10}}));
}

// A pattern with a wide tail ends at many offsets after one start; the longest span that passes its
// validator names the match, even when longer ones fail it (only the longest valid one per start is
// validated and kept).
TEST(MaskDetectorSet, LongestValidSpanWinsWhenLongerOnesFailTheValidator) {
  auto set = builtins();
  std::string key = "sk-proj-" + testing::fakeChars(testing::kAlnum, 30, 5);
  std::string text = "key " + key + "-example here";  // "example" marks a placeholder, not a secret
  std::vector<DetectorMatch> matches;
  ASSERT_TRUE(set->scan(text, set->all(), matches).ok());
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(text.substr(matches[0].begin, matches[0].end - matches[0].begin), key + "-exampl");

  // The same for a value-only detector, whose replaced span starts after the '='.
  text = "db_password=Xk9#mP2vL7q!example";
  ASSERT_TRUE(set->scan(text, set->all(), matches).ok());
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(set->detectors()[matches[0].detector].name, "secret-assignment");
  EXPECT_EQ(text.substr(matches[0].begin, matches[0].end - matches[0].begin), "Xk9#mP2vL7q!exampl");
}

// Near misses of the assignment detector: punctuation that closes a sentence or a bracket after the
// value is not part of it (the value's own '!' and inner punctuation are).
TEST(MaskDetectorSet, AnAssignedValueEndsWhereItsOwnCharactersEnd) {
  auto set = builtins();
  ASSERT_NE(set, nullptr);
  const std::string value = "Xk9#mP2vL7q";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"password=" + value + ") does", value},
      {"(password=" + value + ")", value},
      {"the password=" + value + ". Next", value},
      {"set password=" + value + "... then", value},
      {"is it password=" + value + "?", value},
      {"[token: " + value + "]", value},
      {"{api_key=" + value + "}", value},
      {"secret=" + value + ": rotate it", value},
      {"password=" + value + "!", value + "!"},
      {"password=" + value + ".v2 here", value + ".v2"},
      {"password=" + value + "(1) x", value + "(1"},
  };
  for (const auto& [text, expected] : cases) {
    std::vector<DetectorMatch> matches;
    ASSERT_TRUE(set->scan(text, set->all(), matches).ok());
    ASSERT_EQ(matches.size(), 1u) << text;
    EXPECT_EQ(set->detectors()[matches[0].detector].name, "secret-assignment") << text;
    EXPECT_EQ(text.substr(matches[0].begin, matches[0].end - matches[0].begin), expected) << text;
  }
}

TEST(MaskDetectorSet, SelectionSwitchesDetectorsOff) {
  auto set = builtins();
  ASSERT_NE(set, nullptr);
  std::string text = "mail john@example.com from 10.1.2.3";
  DetectorSelection selection(set->detectors().size(), false);
  std::vector<DetectorMatch> matches;
  ASSERT_TRUE(set->scan(text, selection, matches).ok());
  EXPECT_TRUE(matches.empty());
  selection[*set->indexOf("ipv4-address")] = true;
  ASSERT_TRUE(set->scan(text, selection, matches).ok());
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(text.substr(matches[0].begin, matches[0].end - matches[0].begin), "10.1.2.3");
  ASSERT_TRUE(set->scan(text, set->all(), matches).ok());
  EXPECT_EQ(matches.size(), 2u);
}

TEST(MaskDetectorSet, WordListsAreWholeWordAndCaseless) {
  auto set = compileOrDie({wordDetector("project-names", {"Bluebird", "C++", "red team"})});
  ASSERT_NE(set, nullptr);
  std::string text = "bluebird and BLUEBIRDS, c++ code, the Red Team.";
  std::vector<DetectorMatch> matches;
  ASSERT_TRUE(set->scan(text, set->all(), matches).ok());
  std::vector<std::string> found;
  for (const auto& m : matches) found.push_back(text.substr(m.begin, m.end - m.begin));
  EXPECT_EQ(found, (std::vector<std::string>{"bluebird", "c++", "Red Team"}));
}

TEST(MaskDetectorSet, CaseSensitiveWordList) {
  Detector detector = wordDetector("codename", {"Falcon"});
  detector.caseSensitive = true;
  auto set = compileOrDie({detector});
  ASSERT_NE(set, nullptr);
  std::vector<DetectorMatch> matches;
  ASSERT_TRUE(set->scan("falcon Falcon", set->all(), matches).ok());
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].begin, 7u);
}

TEST(MaskDetectorSet, RefusesUnboundedAndBrokenPatternsNamingTheDetector) {
  auto unbounded = DetectorSet::compile({patternDetector("greedy", "a[0-9]+")});
  ASSERT_FALSE(unbounded.ok());
  EXPECT_NE(unbounded.error().message.find("greedy"), std::string::npos);
  auto broken = DetectorSet::compile({patternDetector("broken", "a(b")});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("broken"), std::string::npos);
  Detector declared = patternDetector("declared", "id-[0-9]+");
  declared.maxLength = 32;
  EXPECT_TRUE(DetectorSet::compile({declared}).ok());
}

TEST(MaskDetectorSet, MaxWindowCoversTheLongestDetector) {
  auto set = builtins();
  ASSERT_NE(set, nullptr);
  EXPECT_GE(set->maxWindow(), 8192u);  // the PEM block body alone
}

TEST(MaskDetectorSet, PendingSuffixIsZeroAfterProse) {
  auto set = builtins();
  ASSERT_NE(set, nullptr);
  for (std::string text : {"Hello world. ", "Hello world.\n", "The answer is: yes! ", "", "(see above) "}) {
    EXPECT_EQ(set->pendingSuffix(text, set->all()), 0u) << '"' << text << '"';
  }
}

TEST(MaskDetectorSet, PendingSuffixHoldsWhatCouldStillMatch) {
  auto set = builtins();
  ASSERT_NE(set, nullptr);
  auto all = set->all();
  EXPECT_EQ(set->pendingSuffix("write to john", all), 4u);             // john@example.com
  EXPECT_EQ(set->pendingSuffix("write to john@exa", all), 8u);         // the address so far
  EXPECT_EQ(set->pendingSuffix("key: sk-pro", all), 6u);               // an OpenAI key starting
  EXPECT_EQ(set->pendingSuffix("card 4111 1111 ", all), 10u);          // a card with spaces
  EXPECT_EQ(set->pendingSuffix("mail john@example.com", all), 16u);    // complete, but ".com" may go on
  EXPECT_GT(set->pendingSuffix("-----BEGIN RSA PRIVATE KEY-----\nMIIE", all), 30u);
  // A leading \b stops "task" from looking like the start of "sk-...".
  DetectorSelection openai(set->detectors().size(), false);
  openai[*set->indexOf("openai-api-key")] = true;
  EXPECT_EQ(set->pendingSuffix("the task", openai), 0u);
  EXPECT_EQ(set->pendingSuffix("the sk", openai), 2u);
  // Only selected detectors count.
  DetectorSelection none(set->detectors().size(), false);
  EXPECT_EQ(set->pendingSuffix("write to john", none), 0u);
}

TEST(MaskDetectorSet, PendingSuffixIsBoundedByMaxWindow) {
  auto set = builtins();
  ASSERT_NE(set, nullptr);
  std::string text = "-----BEGIN RSA PRIVATE KEY-----\n" + std::string(20000, 'A');
  EXPECT_LE(set->pendingSuffix(text, set->all()), set->maxWindow());
}

TEST(MaskDetectorSet, ConcurrentScansFromManyThreadsAndSets) {
  auto first = builtins();
  auto second = compileOrDie({patternDetector("ticket", R"(\bTICKET-[0-9]{4,8}\b)")});
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  std::string text = "ping john@example.com about TICKET-12345 and 4111 1111 1111 1111";
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      std::vector<DetectorMatch> matches;
      for (int i = 0; i < 200; ++i) {
        if (!first->scan(text, first->all(), matches).ok() || matches.size() != 2) ++failures;
        if (!second->scan(text, second->all(), matches).ok() || matches.size() != 1) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(MaskDetectorSet, InvalidUtf8AndBinaryAreScannedAsBytes) {
  auto set = builtins();
  ASSERT_NE(set, nullptr);
  std::string text = "\xff\xfe john@example.com \xc3";
  text.push_back('\0');
  text += "ghp_" + testing::fakeChars(testing::kAlnum, 36);
  std::vector<DetectorMatch> matches;
  ASSERT_TRUE(set->scan(text, set->all(), matches).ok());
  EXPECT_EQ(matches.size(), 2u);
}

}  // namespace
}  // namespace shadowai

namespace shadowai {
namespace {

// Vectorscan engines use unaligned SIMD loads; a database that loses matches at some alignments
// (seen with 5.4.9 when every \b was dropped from the end-offset pass) would mask text differently
// depending on where a buffer happens to live.
TEST(MaskDetectorSet, SameMatchesAtEveryBufferAlignment) {
  auto compiled = DetectorSet::compile(shippedDetectors());
  ASSERT_TRUE(compiled.ok());
  const DetectorSet& set = **compiled;
  std::string text =
      "IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, host 10.0.0.1 and fe80::1, mac 00:1a:2b:3c:4d:5e, "
      "mail john.doe@example.com, call (415) 555-2671, card 4111 1111 1111 1111, key ghp_" +
      testing::fakeChars(testing::kAlnum, 36) + " and sk-proj-" + testing::fakeChars(testing::kAlnum, 48);
  std::vector<DetectorMatch> expected;
  ASSERT_TRUE(set.scan(text, set.all(), expected).ok());
  EXPECT_EQ(expected.size(), 10u);
  std::vector<char> memory(text.size() + 128);
  for (size_t offset = 0; offset < 128; ++offset) {
    std::copy(text.begin(), text.end(), memory.begin() + static_cast<ptrdiff_t>(offset));
    std::vector<DetectorMatch> matches;
    ASSERT_TRUE(set.scan(std::string_view(memory.data() + offset, text.size()), set.all(), matches).ok());
    ASSERT_EQ(matches, expected) << "offset " << offset;
  }
}

}  // namespace
}  // namespace shadowai

namespace shadowai {
namespace {

// Vectorscan 5.4.9's AVX-512 runtime loses matches of some databases depending on where a value
// sits relative to the start and end of the scanned buffer (an SSN with ~60-110 bytes before it and
// a few after, "fe80::1" for an IPv6 database of its own), where its AVX2 runtime finds them. The
// databases the end pass is split into must not be among them: every value is found at every
// position in a buffer of up to ~250 bytes, at varying addresses.
TEST(MaskDetectorSet, FindsEachValueWhereverItSitsInTheBuffer) {
  auto set = builtins();
  struct Case {
    std::string text;
    std::string span;
  };
  std::vector<Case> cases = {
      {"123-45-6789", "123-45-6789"},
      {"AKIAZ4XJ5QK2L7M3N6P8", "AKIAZ4XJ5QK2L7M3N6P8"},
      {"john.doe@example.com", "john.doe@example.com"},
      {"fe80::1", "fe80::1"},
      {"2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"},
      {"10.20.30.40", "10.20.30.40"},
      {"(415) 555-2671", "(415) 555-2671"},
      {"+44 20 7946 0958", "+44 20 7946 0958"},
      {"4111 1111 1111 1111", "4111 1111 1111 1111"},
      {"DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"},
      {"00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5e"},
      {"AB 12 34 56 C", "AB 12 34 56 C"},
      {"DOB: 1990-04-12", "1990-04-12"},
      {"password=Xk9#mP2vL7q!", "Xk9#mP2vL7q!"},
      {"Authorization: Basic dXNlcjpwYXNzd29yZA==", "Basic dXNlcjpwYXNzd29yZA=="},  // an end pass of its own
      {"ghp_" + testing::fakeChars(testing::kAlnum, 36, 2), "ghp_" + testing::fakeChars(testing::kAlnum, 36, 2)},
  };
  std::string filler;
  while (filler.size() < 200) filler += "the model returned an answer about quarterly revenue and customer growth ";
  std::vector<char> memory(512 + 64);
  char* aligned = memory.data() + (64 - reinterpret_cast<uintptr_t>(memory.data()) % 64);
  for (const Case& c : cases) {
    size_t misses = 0;
    std::string firstMiss;
    for (size_t before = 0; before < 140; ++before) {
      for (size_t after = 0; after < 70; ++after) {
        std::string text = filler.substr(filler.size() - before) + " " + c.text + " " + filler.substr(0, after);
        char* at = aligned + (before + after) % 64;
        std::copy(text.begin(), text.end(), at);
        std::vector<DetectorMatch> matches;
        ASSERT_TRUE(set->scan(std::string_view(at, text.size()), set->all(), matches).ok());
        if (matches.size() == 1 && text.substr(matches[0].begin, matches[0].end - matches[0].begin) == c.span) continue;
        if (misses++ == 0) firstMiss = std::to_string(before) + " bytes before, " + std::to_string(after) + " after";
      }
    }
    EXPECT_EQ(misses, 0u) << c.text << ", first at " << firstMiss;
  }
}

}  // namespace
}  // namespace shadowai
