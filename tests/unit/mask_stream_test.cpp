// The stream property: for any split of a text into deltas, the concatenated output equals masking
// the whole text at once, and nothing is held longer than maxWindow().
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mask/mask_session.h"
#include "mask_test_values.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

std::shared_ptr<const MaskRules> builtinRules() {
  static auto rules = [] {
    auto compiled = DetectorSet::compile(shippedDetectors());
    EXPECT_TRUE(compiled.ok());
    auto made = std::make_shared<MaskRules>();
    made->detectors = *compiled;
    made->requestDetectors = made->detectors->all();
    made->responseDetectors = made->detectors->all();
    for (const Detector& detector : made->detectors->detectors()) made->styles.push_back(detector.defaultStyle);
    return made;
  }();
  return rules;
}

std::shared_ptr<const PseudonymKey> key() {
  std::array<unsigned char, 32> bytes{};
  return std::make_shared<PseudonymKey>(PseudonymKey::fromBytes(bytes));
}

std::string maskWhole(const std::string& text) {
  MaskSession session(builtinRules(), key());
  auto masked = session.mask(text, MaskSite::kResponse);
  EXPECT_TRUE(masked.ok());
  return masked.ok() ? *masked : "";
}

// Feeds TEXT cut at CUTS.
std::string maskStreamed(const std::string& text, const std::vector<size_t>& cuts) {
  MaskSession session(builtinRules(), key());
  auto stream = session.openStream(MaskSite::kResponse);
  std::string out;
  size_t start = 0;
  auto feed = [&](size_t end) {
    auto piece = stream->feed(std::string_view(text).substr(start, end - start));
    EXPECT_TRUE(piece.ok());
    if (piece.ok()) out += *piece;
    start = end;
  };
  for (size_t cut : cuts) feed(cut);
  feed(text.size());
  auto rest = stream->finish();
  EXPECT_TRUE(rest.ok());
  if (rest.ok()) out += *rest;
  EXPECT_FALSE(stream->holding());
  return out;
}

std::vector<std::string> sampleTexts() {
  using testing::fakeChars;
  using testing::kAlnum;
  std::string pem = "-----BEGIN EC PRIVATE KEY-----\n" + fakeChars(kAlnum, 64, 3) + "\n" + fakeChars(kAlnum, 40, 4) +
                    "\n-----END EC PRIVATE KEY-----";
  return {
      "Contact john.doe@example.com or jane@example.org; john.doe@example.com again.",
      "export OPENAI_API_KEY=sk-proj-" + fakeChars(kAlnum, 48, 1) + "\nand ghp_" + fakeChars(kAlnum, 36, 2) + " done",
      "Here is the key:\n" + pem + "\nKeep it safe.",
      "Pay with 4111 1111 1111 1111 or 5555-5555-5555-4444, not 4111 1111 1111 1112. Call (415) 555-2671.",
      "IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, host 10.0.0.1 and fe80::1, mac 00:1a:2b:3c:4d:5e",
      // Issue 14's shapes: national phones, numbers that only contain a phone or an address,
      // credentials in headers, command lines, URLs, escaped JSON and vocabulary names.
      "Ring 020 3668 6459, (11) 96419-8796 or 03-4627-6521; ids 3841-917646-3648 and 07.12.34.56.78.90 stay.",
      "curl -u alice:S3cr3t!x -H 'Authorization: Basic YWxpY2U6UzNjcmV0IXB3' redis://:p4ssw0rdX@cache:6379/0",
      "{\\\"password\\\": \\\"Xk9#mP2vL7q!\\\"} and SECRET_KEY = 'django-insecure-7x!k2m#p9q@w4e' ssn 273 18 5011",
      "-----BEGIN PRIVATE KEY-----\\n" + fakeChars(kAlnum, 64, 5) + "\\n" + fakeChars(kAlnum, 30, 6) +
          "\\n-----END PRIVATE KEY-----\\n\", \"client_email\": \"svc@p.iam\"",
      "no secrets at all, just prose that goes on for a while. ",
  };
}

TEST(MaskStream, EverySplitPointGivesTheWholeTextResult) {
  for (const std::string& text : sampleTexts()) {
    std::string whole = maskWhole(text);
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      ASSERT_EQ(maskStreamed(text, {cut}), whole) << "cut at " << cut << " of: " << text;
    }
  }
}

TEST(MaskStream, ByteByByteAndRandomSplitsGiveTheWholeTextResult) {
  for (const std::string& text : sampleTexts()) {
    std::string whole = maskWhole(text);
    std::vector<size_t> everyByte;
    for (size_t i = 1; i < text.size(); ++i) everyByte.push_back(i);
    EXPECT_EQ(maskStreamed(text, everyByte), whole);
    uint64_t state = 12345;
    for (int round = 0; round < 20; ++round) {
      std::vector<size_t> cuts;
      for (size_t at = 0;;) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        at += 1 + (state >> 33) % 17;
        if (at >= text.size()) break;
        cuts.push_back(at);
      }
      EXPECT_EQ(maskStreamed(text, cuts), whole);
    }
  }
}

TEST(MaskStream, ProseIsReleasedWithoutDelay) {
  MaskSession session(builtinRules(), key());
  auto stream = session.openStream(MaskSite::kResponse);
  auto out = stream->feed("Hello world. ");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "Hello world. ");
  EXPECT_FALSE(stream->holding());
  out = stream->feed("Write to john");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "Write to ");
  EXPECT_TRUE(stream->holding());
  out = stream->feed("@example.com now");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "[EMAIL_1] ");  // "now" could still begin an address
  out = stream->finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "now");
}

TEST(MaskStream, HoldBackIsBounded) {
  MaskSession session(builtinRules(), key());
  auto stream = session.openStream(MaskSite::kResponse);
  size_t window = builtinRules()->detectors->maxWindow();
  std::string fed;
  std::string out;
  // A PEM block that never ends: held up to the window, then released as it cannot match anymore.
  std::string chunk = "-----BEGIN RSA PRIVATE KEY-----\n";
  for (int i = 0; i < 400; ++i) {
    auto piece = stream->feed(chunk);
    ASSERT_TRUE(piece.ok());
    fed += chunk;
    out += *piece;
    ASSERT_LE(fed.size() - out.size(), window);
    chunk = testing::fakeChars(testing::kAlnum, 63, static_cast<uint64_t>(i)) + "\n";
  }
  auto rest = stream->finish();
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(out + *rest, fed);
}

TEST(MaskStream, PlaceholdersContinueAcrossDeltasAndPrompt) {
  MaskSession session(builtinRules(), key());
  ASSERT_TRUE(session.mask("from a@example.com", MaskSite::kRequest).ok());
  auto stream = session.openStream(MaskSite::kResponse);
  std::string out;
  for (std::string_view delta : {"b@exa", "mple.com and a@ex", "ample.com"}) out += *stream->feed(delta);
  out += *stream->finish();
  EXPECT_EQ(out, "[EMAIL_2] and [EMAIL_1]");
}

// A value longer than any match (a session token of 4 900 characters, closers inside it and after
// it) is replaced whole in a stream too: the bytes that continue it after its match was released
// are dropped, and the closers after it come out as on the whole text.
TEST(MaskStream, AValueLongerThanAnyMatchIsReplacedWholeWhateverTheSplit) {
  using testing::fakeChars;
  const std::string value = fakeChars(std::string(testing::kAlnum) + "+/", 4000, 81) + ")).." +
                            fakeChars(testing::kAlnum, 900, 82);
  const std::string text = "aws_session_token = " + value + ")). Next line\nregion = eu-west-1";
  std::string whole = maskWhole(text);
  ASSERT_EQ(whole.find(value.substr(value.size() - 40)), std::string::npos) << "no tail of the value";
  ASSERT_NE(whole.find(")). Next line"), std::string::npos);
  for (size_t cut = 0; cut <= text.size(); cut += 97) ASSERT_EQ(maskStreamed(text, {cut}), whole) << "cut at " << cut;
  for (size_t cut = text.size() - 40; cut <= text.size(); ++cut) {
    ASSERT_EQ(maskStreamed(text, {cut}), whole) << "cut at " << cut;
  }
  for (size_t delta : {1u, 7u, 16u, 4096u}) {
    std::vector<size_t> cuts;
    for (size_t at = delta; at < text.size(); at += delta) cuts.push_back(at);
    ASSERT_EQ(maskStreamed(text, cuts), whole) << "deltas of " << delta;
  }
}

}  // namespace
}  // namespace shadowai
