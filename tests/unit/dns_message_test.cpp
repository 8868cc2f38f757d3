#include "net/dns_message.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace shadowai {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint16_t kResponseFlags = 0x8180;  // QR, RD, RA, NOERROR
constexpr size_t kQuestionOffset = 12;

// Writes a DNS message field by field, so each test shows the exact wire shape it checks.
class DnsBuilder {
 public:
  DnsBuilder& header(uint16_t id, uint16_t flags, uint16_t questions, uint16_t answers) {
    return u16(id).u16(flags).u16(questions).u16(answers).u16(0).u16(0);
  }
  DnsBuilder& u8(uint8_t value) {
    bytes_.push_back(value);
    return *this;
  }
  DnsBuilder& u16(uint16_t value) {
    return u8(static_cast<uint8_t>(value >> 8)).u8(static_cast<uint8_t>(value));
  }
  DnsBuilder& u32(uint32_t value) {
    return u16(static_cast<uint16_t>(value >> 16)).u16(static_cast<uint16_t>(value));
  }
  // Labels of a dotted name, without the terminating root label.
  DnsBuilder& labels(std::string_view dotted) {
    while (!dotted.empty()) {
      size_t dot = std::min(dotted.find('.'), dotted.size());
      u8(static_cast<uint8_t>(dot));
      bytes_.insert(bytes_.end(), dotted.begin(), dotted.begin() + dot);
      dotted.remove_prefix(std::min(dot + 1, dotted.size()));
    }
    return *this;
  }
  DnsBuilder& name(std::string_view dotted) { return labels(dotted).u8(0); }
  DnsBuilder& pointer(size_t offset) { return u16(static_cast<uint16_t>(0xc000 | offset)); }
  DnsBuilder& question(std::string_view dotted, uint16_t type) {
    return name(dotted).u16(type).u16(1);
  }
  // Type, class, TTL and a length patched by endData(); the owner name comes before.
  DnsBuilder& beginData(uint16_t type, uint32_t ttl, uint16_t recordClass = 1) {
    u16(type).u16(recordClass).u32(ttl).u16(0);
    dataStart_ = bytes_.size();
    return *this;
  }
  DnsBuilder& endData() {
    size_t length = bytes_.size() - dataStart_;
    bytes_[dataStart_ - 2] = static_cast<uint8_t>(length >> 8);
    bytes_[dataStart_ - 1] = static_cast<uint8_t>(length);
    return *this;
  }
  DnsBuilder& a(uint32_t ttl, std::string_view address) {
    return addressRecord(kDnsTypeA, ttl, address);
  }
  DnsBuilder& aaaa(uint32_t ttl, std::string_view address) {
    return addressRecord(kDnsTypeAaaa, ttl, address);
  }
  DnsBuilder& cname(uint32_t ttl, std::string_view target) {
    return beginData(kDnsTypeCname, ttl).name(target).endData();
  }

  size_t size() const { return bytes_.size(); }
  const Bytes& bytes() const { return bytes_; }

 private:
  DnsBuilder& addressRecord(uint16_t type, uint32_t ttl, std::string_view text) {
    auto address = IpAddress::parse(text);
    EXPECT_TRUE(address) << text;
    beginData(type, ttl);
    const auto& raw = address->bytes();
    if (type == kDnsTypeA) {
      bytes_.insert(bytes_.end(), raw.end() - 4, raw.end());
    } else {
      bytes_.insert(bytes_.end(), raw.begin(), raw.end());
    }
    return endData();
  }

  Bytes bytes_;
  size_t dataStart_ = 0;
};

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

// alias.example.com -> alias2.example.net -> edge.cdn.example -> A + AAAA, records out of order.
Bytes cnameChainResponse() {
  DnsBuilder b;
  b.header(0x1234, kResponseFlags, 1, 5).question("Alias.Example.COM", kDnsTypeA);
  b.name("edge.cdn.example").a(120, "203.0.113.7");
  b.name("alias2.example.net").cname(60, "edge.cdn.example");
  b.pointer(kQuestionOffset).cname(45, "alias2.example.net");
  b.name("edge.cdn.example").aaaa(30, "2001:db8::7");
  b.name("unrelated.example").a(5, "198.51.100.1");
  return b.bytes();
}

Bytes fromHex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A real dnsmasq answer for chat.example.com A: chat -> alias -> api.openai.com, two addresses,
// CNAME targets compressed against earlier names. The alias CNAME has TTL 60, the rest 300.
constexpr std::string_view kDnsmasqCnameChain =
    "0003858000010004000000000463686174076578616d706c6503636f6d0000010001c00c000500010000012c0013"
    "05616c696173076578616d706c6503636f6d00c02e000500010000003c001003617069066f70656e616903636f6d"
    "00c04d000100010000012c0004681207c0c04d000100010000012c0004681206c0";

TEST(DnsMessage, ParsesARealDnsmasqResponse) {
  auto message = parseDnsMessage(fromHex(kDnsmasqCnameChain));
  ASSERT_TRUE(message) << message.error().describe();
  EXPECT_EQ(message->id, 3);
  EXPECT_EQ(message->questionName, "chat.example.com");
  ASSERT_EQ(message->answers.size(), 4u);
  EXPECT_EQ(message->answers[1].target, "api.openai.com");
  auto learned = learnedAddresses(*message);
  ASSERT_EQ(learned.size(), 2u);
  const std::vector<std::string> chain = {"chat.example.com", "alias.example.com",
                                          "api.openai.com"};
  EXPECT_EQ(learned[0].address, ip("104.18.7.192"));
  EXPECT_EQ(learned[1].address, ip("104.18.6.192"));
  for (const auto& entry : learned) {
    EXPECT_EQ(entry.names, chain);
    EXPECT_EQ(entry.ttl, 60u);
  }
}

TEST(DnsMessage, ParsesARecord) {
  DnsBuilder b;
  b.header(0xbeef, kResponseFlags, 1, 1).question("API.OpenAI.com", kDnsTypeA);
  b.pointer(kQuestionOffset).a(300, "104.18.6.192");
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  EXPECT_EQ(message->id, 0xbeef);
  EXPECT_TRUE(message->isResponse);
  EXPECT_FALSE(message->truncated);
  EXPECT_EQ(message->rcode, 0);
  EXPECT_EQ(message->questionName, "api.openai.com");
  EXPECT_EQ(message->questionType, kDnsTypeA);
  ASSERT_EQ(message->answers.size(), 1u);
  const DnsRecord& record = message->answers[0];
  EXPECT_EQ(record.name, "api.openai.com");
  EXPECT_EQ(record.type, kDnsTypeA);
  EXPECT_EQ(record.ttl, 300u);
  EXPECT_EQ(record.address, ip("104.18.6.192"));
  EXPECT_TRUE(record.address->isV4());

  auto learned = learnedAddresses(*message);
  ASSERT_EQ(learned.size(), 1u);
  EXPECT_EQ(learned[0].address, ip("104.18.6.192"));
  EXPECT_EQ(learned[0].names, std::vector<std::string>{"api.openai.com"});
  EXPECT_EQ(learned[0].ttl, 300u);
}

TEST(DnsMessage, ParsesAaaaRecordAndRcode) {
  DnsBuilder b;
  b.header(1, kResponseFlags | 0x0003, 1, 1).question("api.anthropic.com", kDnsTypeAaaa);
  b.pointer(kQuestionOffset).aaaa(60, "2607:6bc0::10");
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  EXPECT_EQ(message->rcode, 3);
  EXPECT_EQ(message->questionType, kDnsTypeAaaa);
  ASSERT_EQ(message->answers.size(), 1u);
  EXPECT_EQ(message->answers[0].address, ip("2607:6bc0::10"));
  EXPECT_FALSE(message->answers[0].address->isV4());
}

TEST(DnsMessage, CnameChainInAnyOrder) {
  auto message = parseDnsMessage(cnameChainResponse());
  ASSERT_TRUE(message) << message.error().describe();
  EXPECT_EQ(message->questionName, "alias.example.com");
  ASSERT_EQ(message->answers.size(), 5u);
  EXPECT_EQ(message->answers[2].name, "alias.example.com");
  EXPECT_EQ(message->answers[2].type, kDnsTypeCname);
  EXPECT_EQ(message->answers[2].target, "alias2.example.net");

  auto learned = learnedAddresses(*message);
  const std::vector<std::string> chain = {"alias.example.com", "alias2.example.net",
                                          "edge.cdn.example"};
  ASSERT_EQ(learned.size(), 2u) << "the unrelated record answers nothing that was asked";
  EXPECT_EQ(learned[0].address, ip("203.0.113.7"));
  EXPECT_EQ(learned[0].names, chain);
  EXPECT_EQ(learned[0].ttl, 45u) << "smallest TTL along the chain: the first CNAME";
  EXPECT_EQ(learned[1].address, ip("2001:db8::7"));
  EXPECT_EQ(learned[1].names, chain);
  EXPECT_EQ(learned[1].ttl, 30u) << "the AAAA record's own TTL is smaller still";
}

TEST(DnsMessage, CnameLoopEndsTheWalk) {
  DnsBuilder b;
  b.header(2, kResponseFlags, 1, 4).question("a.example", kDnsTypeA);
  b.name("a.example").cname(100, "b.example");
  b.name("b.example").cname(100, "c.example");
  b.name("c.example").cname(100, "a.example");
  b.name("c.example").a(100, "192.0.2.1");
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  auto learned = learnedAddresses(*message);
  ASSERT_EQ(learned.size(), 1u);
  EXPECT_EQ(learned[0].names, (std::vector<std::string>{"a.example", "b.example", "c.example"}));
}

TEST(DnsMessage, SelfCnameAndDuplicateAddresses) {
  DnsBuilder b;
  b.header(3, kResponseFlags, 1, 4).question("self.example", kDnsTypeA);
  b.name("self.example").cname(100, "self.example");
  b.name("self.example").a(100, "192.0.2.1");
  b.name("self.example").a(40, "192.0.2.1");
  b.name("self.example").a(10, "192.0.2.2").u8(0);  // a stray byte after the answers is ignored
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  auto learned = learnedAddresses(*message);
  ASSERT_EQ(learned.size(), 2u);
  EXPECT_EQ(learned[0].names, std::vector<std::string>{"self.example"});
  EXPECT_EQ(learned[0].ttl, 40u);
  EXPECT_EQ(learned[1].address, ip("192.0.2.2"));
}

TEST(DnsMessage, FollowsCompressionPointers) {
  DnsBuilder b;
  b.header(4, kResponseFlags, 1, 3).question("alias.example.com", kDnsTypeA);
  // CNAME target "www" + pointer to "example.com" inside the question name.
  size_t firstOwner = b.size();
  b.pointer(kQuestionOffset).beginData(kDnsTypeCname, 50);
  size_t target = b.size();
  b.labels("www").pointer(kQuestionOffset + 6).endData();
  // Owned by the CNAME target: a pointer to labels that end in a pointer.
  b.pointer(target).a(50, "192.0.2.10");
  // Owned by a pointer to the first owner, itself a pointer: the alias, also on the chain.
  b.pointer(firstOwner).a(50, "192.0.2.99");
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  ASSERT_EQ(message->answers.size(), 3u);
  EXPECT_EQ(message->answers[0].target, "www.example.com");
  EXPECT_EQ(message->answers[1].name, "www.example.com");
  EXPECT_EQ(message->answers[2].name, "alias.example.com");
  auto learned = learnedAddresses(*message);
  ASSERT_EQ(learned.size(), 2u);
  EXPECT_EQ(learned[0].names, (std::vector<std::string>{"alias.example.com", "www.example.com"}));
  EXPECT_EQ(learned[1].names, std::vector<std::string>{"alias.example.com"});
}

TEST(DnsMessage, ForwardPointerIsFollowed) {
  DnsBuilder b;
  b.header(5, kResponseFlags, 1, 1);
  b.pointer(kQuestionOffset + 6).u16(kDnsTypeA).u16(1);  // the question points at the answer
  b.name("fwd.example").a(10, "192.0.2.5");
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  EXPECT_EQ(message->questionName, "fwd.example");
  EXPECT_EQ(learnedAddresses(*message).size(), 1u);
}

void expectNameError(const Bytes& bytes, std::string_view expected) {
  auto message = parseDnsMessage(bytes);
  ASSERT_FALSE(message);
  EXPECT_NE(message.error().message.find(expected), std::string::npos) << message.error().message;
}

TEST(DnsMessage, RejectsPointerLoops) {
  DnsBuilder self;
  self.header(6, kResponseFlags, 1, 0).pointer(kQuestionOffset).u16(1).u16(1);
  expectNameError(self.bytes(), "compression pointer loop");

  DnsBuilder pair;  // 12 -> 14 -> 12
  pair.header(7, kResponseFlags, 1, 0).pointer(kQuestionOffset + 2).pointer(kQuestionOffset);
  pair.u16(1).u16(1);
  expectNameError(pair.bytes(), "compression pointer loop");

  DnsBuilder growing;  // each trip round the loop adds a label, until the name is too long
  growing.header(8, kResponseFlags, 1, 0).labels("abc").pointer(kQuestionOffset).u16(1).u16(1);
  expectNameError(growing.bytes(), "longer than 255");

  DnsBuilder outside;
  outside.header(9, kResponseFlags, 1, 0).pointer(0x3fff).u16(1).u16(1);
  expectNameError(outside.bytes(), "outside the message");

  DnsBuilder intoHeader;
  intoHeader.header(9, kResponseFlags, 1, 0).pointer(2).u16(1).u16(1);
  expectNameError(intoHeader.bytes(), "outside the message");
}

TEST(DnsMessage, RejectsOversizedLabelsAndNames) {
  DnsBuilder label64;
  label64.header(10, kResponseFlags, 1, 0).name(std::string(64, 'x')).u16(1).u16(1);
  expectNameError(label64.bytes(), "more than 63");

  DnsBuilder label63;
  label63.header(10, kResponseFlags, 1, 0).name(std::string(63, 'x')).u16(1).u16(1);
  EXPECT_TRUE(parseDnsMessage(label63.bytes()));

  std::string label(63, 'y');
  std::string longest =
      label + "." + label + "." + label + "." + std::string(61, 'z');  // 255 on the wire
  DnsBuilder fits;
  fits.header(11, kResponseFlags, 1, 0).name(longest).u16(1).u16(1);
  auto message = parseDnsMessage(fits.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  EXPECT_EQ(message->questionName, longest);

  DnsBuilder tooLong;
  tooLong.header(11, kResponseFlags, 1, 0).name(longest + "z").u16(1).u16(1);
  expectNameError(tooLong.bytes(), "longer than 255");
}

TEST(DnsMessage, RejectsUnprintableOrDottedLabels) {
  DnsBuilder dotted;
  dotted.header(12, kResponseFlags, 1, 0).u8(9);
  for (char c : std::string_view("api.a.com")) dotted.u8(static_cast<uint8_t>(c));
  dotted.u8(0).u16(1).u16(1);
  expectNameError(dotted.bytes(), "not printable ASCII");

  DnsBuilder control;
  control.header(12, kResponseFlags, 1, 0).u8(2).u8('a').u8(0x0a).u8(0).u16(1).u16(1);
  expectNameError(control.bytes(), "not printable ASCII");
}

TEST(DnsMessage, TruncationAtEveryByteIsAnError) {
  const Bytes whole = cnameChainResponse();
  ASSERT_TRUE(parseDnsMessage(whole));
  for (size_t length = 0; length < whole.size(); ++length) {
    auto message = parseDnsMessage(Bytes(whole.begin(), whole.begin() + length));
    ASSERT_FALSE(message) << length;
    const std::string& error = message.error().message;
    EXPECT_NE(error.find("cut short at byte " + std::to_string(length) + ", in "),
              std::string::npos)
        << error;
  }
  auto cut = parseDnsMessage(Bytes(whole.begin(), whole.begin() + 80));
  EXPECT_EQ(cut.error().message, "DNS response cut short at byte 80, in answer 2 name");
}

TEST(DnsMessage, TcBitIsReported) {
  DnsBuilder b;
  b.header(13, kResponseFlags | 0x0200, 1, 0).question("big.example", kDnsTypeA);
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  EXPECT_TRUE(message->truncated);
  EXPECT_TRUE(message->answers.empty());
}

TEST(DnsMessage, QueriesAndOtherOpcodesAreRefused) {
  DnsBuilder query;
  query.header(14, 0x0100, 1, 0).question("api.openai.com", kDnsTypeA);
  auto message = parseDnsMessage(query.bytes());
  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().message, "DNS message is a query, not a response");

  DnsBuilder notify;
  notify.header(15, 0x8000 | (4 << 11), 1, 0).question("zone.example", 6);
  EXPECT_FALSE(parseDnsMessage(notify.bytes()));
}

TEST(DnsMessage, AddressDataOfTheWrongLengthIsAnError) {
  DnsBuilder longA;
  longA.header(16, kResponseFlags, 1, 1).question("a.example", kDnsTypeA);
  longA.pointer(kQuestionOffset).beginData(kDnsTypeA, 10).u32(0xc0000201).u8(0).endData();
  expectNameError(longA.bytes(), "A data of 5 bytes in answer 1 data");

  DnsBuilder shortAaaa;
  shortAaaa.header(17, kResponseFlags, 1, 1).question("a.example", kDnsTypeAaaa);
  shortAaaa.pointer(kQuestionOffset).beginData(kDnsTypeAaaa, 10).u32(0xc0000201).endData();
  expectNameError(shortAaaa.bytes(), "AAAA data of 4 bytes");

  DnsBuilder cnameSlack;  // a CNAME whose name ends before its data does
  cnameSlack.header(18, kResponseFlags, 1, 1).question("a.example", kDnsTypeA);
  cnameSlack.pointer(kQuestionOffset)
      .beginData(kDnsTypeCname, 10)
      .name("b.example")
      .u8(0)
      .endData();
  expectNameError(cnameSlack.bytes(), "CNAME data of 12 bytes");
}

TEST(DnsMessage, MultipleQuestionsTakeTheFirst) {
  DnsBuilder b;
  b.header(19, kResponseFlags, 2, 1)
      .question("first.example", kDnsTypeA)
      .question("second.example", kDnsTypeAaaa);
  b.pointer(kQuestionOffset).a(10, "192.0.2.3");
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  EXPECT_EQ(message->questionName, "first.example");
  EXPECT_EQ(message->questionType, kDnsTypeA);
  ASSERT_EQ(message->answers.size(), 1u);
  EXPECT_EQ(message->answers[0].name, "first.example");
}

TEST(DnsMessage, OtherClassesAndTypesKeepNoData) {
  DnsBuilder b;
  b.header(20, kResponseFlags, 1, 3).question("x.example", kDnsTypeA);
  b.pointer(kQuestionOffset).beginData(kDnsTypeA, 10, 3).u32(0xc0000201).endData();      // class CH
  b.pointer(kQuestionOffset).beginData(16, 10).u8(3).u8('a').u8('b').u8('c').endData();  // TXT
  b.pointer(kQuestionOffset).a(0x80000000, "192.0.2.4");  // TTL with the top bit set
  auto message = parseDnsMessage(b.bytes());
  ASSERT_TRUE(message) << message.error().describe();
  ASSERT_EQ(message->answers.size(), 3u);
  EXPECT_FALSE(message->answers[0].address);
  EXPECT_EQ(message->answers[1].type, 16);
  EXPECT_TRUE(message->answers[1].target.empty());
  EXPECT_EQ(message->answers[2].ttl, 0u);
  auto learned = learnedAddresses(*message);
  ASSERT_EQ(learned.size(), 1u);
  EXPECT_EQ(learned[0].address, ip("192.0.2.4"));
}

TEST(DnsMessage, AnswerCountLargerThanTheMessageIsAnError) {
  DnsBuilder b;
  b.header(21, kResponseFlags, 1, 0xffff).question("x.example", kDnsTypeA);
  b.pointer(kQuestionOffset).a(10, "192.0.2.4");
  expectNameError(b.bytes(), "cut short at byte");
}

// Random damage to a real-shaped response: parsing ends, and what it returns is well formed.
TEST(DnsMessage, DamagedResponsesStayWellFormed) {
  const Bytes whole = cnameChainResponse();
  std::mt19937 random(99);
  int stillOk = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes bytes = whole;
    int flips = 1 + static_cast<int>(random() % 3);
    for (int i = 0; i < flips; ++i) bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
    auto message = parseDnsMessage(bytes);
    if (!message) continue;
    ++stillOk;
    EXPECT_TRUE(message->isResponse);
    for (const auto& record : message->answers) {
      EXPECT_LE(record.name.size(), 253u);
      EXPECT_TRUE(std::none_of(record.name.begin(), record.name.end(),
                               [](char c) { return c >= 'A' && c <= 'Z'; }));
    }
    for (const auto& learned : learnedAddresses(*message)) {
      ASSERT_FALSE(learned.names.empty());
      EXPECT_EQ(learned.names.front(), message->questionName);
    }
  }
  EXPECT_GT(stillOk, 1000);
}

}  // namespace
}  // namespace shadowai
