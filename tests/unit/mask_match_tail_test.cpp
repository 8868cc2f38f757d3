// MatchTail::earliestStart: the lower bound on a match's start that lets the start-of-match search
// (MatchStartFinder) skip the prose before a candidate instead of walking a whole maxLength window.
// The bound must never cut a real match: checked against the exact finder run on the whole text,
// for every built-in detector and every end offset of a set of texts.
#include <gtest/gtest.h>

#include <hs.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mask/detector.h"
#include "mask/detector_expression.h"
#include "mask/match_start_finder.h"
#include "mask/match_tail.h"
#include "mask_test_values.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

using testing::fakeChars;
using testing::kAlnum;

std::vector<std::string> sampleTexts() {
  const std::string base64 = std::string(kAlnum) + "+/";
  return {
      "Contact john.doe@example.com or jane+x@mail.example.org; a.b@c.de. Not a@b, not x@y@z.com.",
      "export OPENAI_API_KEY=sk-proj-" + fakeChars(kAlnum, 48, 1) + " and sk-" + fakeChars(kAlnum, 52, 2) +
          " then xsk-proj-" + fakeChars(kAlnum, 30, 3) + " and sk-learn-compatible-estimators-everywhere",
      "db_password=Xk9#mP2vL7q! and my password : 'Zq8!wE3rT5yU', password=password=Xk9#mP2vL7q! token=ab",
      "aws_secret_access_key = " + fakeChars(base64, 40, 9) + "\nAWS_SECRET_ACCESS_KEY:\"" + fakeChars(base64, 40, 10) +
          "\"",
      "DATABASE_URL=postgres://admin:s3cr3tPass@db.internal.example:5432/app and Authorization: Bearer " +
          fakeChars(kAlnum, 40, 42),
      "-----BEGIN EC PRIVATE KEY-----\n" + fakeChars(base64, 64, 3) + "\n" + fakeChars(base64, 40, 4) +
          "\n-----END EC PRIVATE KEY-----",
      "token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQ",
      "IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, host 10.0.0.1 and fe80::1, mac 00:1a:2b:3c:4d:5e, "
      "call (415) 555-2671 or +44 20 7946 0958, card 4111 1111 1111 1111, DOB: 1990-04-12, NI AB 12 34 56 C",
      "no secrets at all, just prose that goes on for a while: 12:30:45, v1.2.3, 2024-01-15. ",
  };
}

struct Compiled {
  std::string name;
  MatchTail tail;
  std::optional<MatchStartFinder> finder;
};

std::vector<Compiled> compileBuiltins() {
  std::vector<Compiled> out;
  for (const Detector& detector : shippedDetectors()) {
    std::string expression = detectorExpression(detector);
    bool caseless = (detectorFlags(detector) & HS_FLAG_CASELESS) != 0;
    out.push_back({detector.name, MatchTail::build(expression, caseless), MatchStartFinder::build(expression, caseless)});
  }
  return out;
}

bool byEnd(const std::pair<size_t, size_t>& a, const std::pair<size_t, size_t>& b) {
  return a.second != b.second ? a.second < b.second : a.first < b.first;
}

TEST(MaskMatchTail, EarliestStartNeverCutsAMatch) {
  std::vector<Compiled> detectors = compileBuiltins();
  size_t checkedEnds = 0;
  for (const Compiled& detector : detectors) {
    ASSERT_TRUE(detector.finder) << detector.name;
    ASSERT_TRUE(detector.tail.exact()) << detector.name;
    for (const std::string& text : sampleTexts()) {
      std::vector<size_t> everyEnd;
      for (size_t end = 0; end <= text.size(); ++end) everyEnd.push_back(end);
      // The exact leftmost start of every match, from a search over the whole text.
      std::vector<std::pair<size_t, size_t>> exact;
      detector.finder->findStarts(text, 0, text.size(), everyEnd, exact);
      // Searched live span by live span, as DetectorSet does: the same starts, for every end at once
      // and for the matched ones.
      std::vector<std::pair<size_t, size_t>> exactByEnd = exact;
      std::sort(exactByEnd.begin(), exactByEnd.end(), byEnd);
      std::vector<std::pair<size_t, size_t>> bySpan;
      std::vector<MatchTail::LiveSpan> live;
      detector.tail.liveSpans(text, everyEnd, 0, live);
      for (const MatchTail::LiveSpan& span : live) {
        detector.finder->findStarts(text, span.earliestStart, std::min(text.size(), span.lastEnd + 2), everyEnd, bySpan);
      }
      std::sort(bySpan.begin(), bySpan.end(), byEnd);
      EXPECT_EQ(bySpan, exactByEnd) << detector.name << " in: " << text;

      std::vector<size_t> matchedEnds;
      size_t firstStart = text.size();
      for (auto [start, end] : exact) {
        auto bound = detector.tail.earliestStart(text, {end}, 0);
        ASSERT_TRUE(bound) << detector.name << " end " << end << " of: " << text;
        ASSERT_LE(*bound, start) << detector.name << " end " << end << " of: " << text;
        matchedEnds.push_back(end);
        firstStart = std::min(firstStart, start);
        ++checkedEnds;
      }
      if (matchedEnds.empty()) continue;
      // Several ends at once: a bound for all of them, and the search from it finds the same starts.
      auto bound = detector.tail.earliestStart(text, matchedEnds, 0);
      ASSERT_TRUE(bound) << detector.name;
      ASSERT_LE(*bound, firstStart) << detector.name << " in: " << text;
      std::vector<std::pair<size_t, size_t>> fromBound;
      detector.finder->findStarts(text, *bound, text.size(), matchedEnds, fromBound);
      EXPECT_EQ(fromBound, exact) << detector.name << " in: " << text;
    }
  }
  EXPECT_GT(checkedEnds, 100u);
}

size_t indexOf(const std::string& name) {
  const auto& detectors = shippedDetectors();
  for (size_t i = 0; i < detectors.size(); ++i) {
    if (detectors[i].name == name) return i;
  }
  ADD_FAILURE() << "no detector " << name;
  return 0;
}

MatchTail tailOf(const std::string& name) {
  const Detector& detector = shippedDetectors()[indexOf(name)];
  return MatchTail::build(detectorExpression(detector), (detectorFlags(detector) & HS_FLAG_CASELESS) != 0);
}

TEST(MaskMatchTail, EarliestStartSkipsTheProseBeforeAMatch) {
  std::string prose;
  while (prose.size() < 1000) prose += "the model returned an answer about quarterly revenue. ";
  std::string email = "john.doe@example.com";
  std::string text = prose + email + " and more prose";
  size_t start = prose.size();
  size_t end = start + email.size();
  MatchTail tail = tailOf("email");
  EXPECT_EQ(tail.earliestStart(text, {end}, 0), start);
  EXPECT_EQ(tail.earliestStart(text, {end - 4, end}, 0), start);  // "john.doe@example" ends a match too
  // Never below the floor: from "n.doe@..." on, the first place a match may start is the '.' (a \b
  // lies between "john" and ".doe"; none between "joh" and "n").
  EXPECT_EQ(tail.earliestStart(text, {end}, start + 3), start + 4);
  EXPECT_EQ(tail.earliestStart(text, {start - 1}, 0), std::nullopt);  // no match can end in plain prose
  EXPECT_EQ(tail.earliestStart(text, {}, 0), std::nullopt);

  std::string key = "sk-proj-" + fakeChars(kAlnum, 48, 1);
  text = prose + "key " + key + ".";
  start = prose.size() + 4;
  std::vector<size_t> ends;
  for (size_t length = 28; length <= key.size(); ++length) ends.push_back(start + length);
  EXPECT_EQ(tailOf("openai-api-key").earliestStart(text, ends, 0), start);

  // Live spans: where the walk dies between two matches it is cut, so each is searched alone (in
  // dense text an email's 730-byte window would otherwise span the prose around it too).
  std::string twoEmails = prose + email + " wrote to " + email + " twice";
  size_t second = prose.size() + email.size() + 10;
  std::vector<MatchTail::LiveSpan> live;
  tail.liveSpans(twoEmails, {prose.size() + email.size(), second + email.size()}, 0, live);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].earliestStart, second);  // highest first
  EXPECT_EQ(live[0].lastEnd, second + email.size());
  EXPECT_EQ(live[1].earliestStart, prose.size());
  EXPECT_EQ(live[1].lastEnd, prose.size() + email.size());
  tail.liveSpans(twoEmails, {prose.size() - 1}, 0, live);
  EXPECT_TRUE(live.empty());  // no match can end in plain prose

  // Through blanks and quotes: "name = 'value'" reaches back to the name.
  text = prose + "my_db_password = 'Zq8!wE3rT5yU'";
  EXPECT_EQ(tailOf("secret-assignment").earliestStart(text, {text.size() - 1}, 0), prose.size());
}

}  // namespace
}  // namespace shadowai
