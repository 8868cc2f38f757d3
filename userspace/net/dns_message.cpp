#include "net/dns_message.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <unordered_map>

namespace shadowai {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kQuestionFixedSize = 4;                 // type, class
constexpr size_t kRecordFixedSize = 10;                  // type, class, ttl, rdlength
constexpr size_t kMinRecordSize = 1 + kRecordFixedSize;  // root owner name, empty rdata
constexpr size_t kMaxNameWireLength = 255;
constexpr uint8_t kPointerBits = 0xC0;
constexpr uint8_t kQrBit = 0x80;  // in the first flags byte
constexpr uint8_t kTcBit = 0x02;  // in the first flags byte
// A name has at most 127 labels and a real server points once per name, so more jumps than
// labels can only be a loop (pointer to itself, two pointers to each other, ...).
constexpr int kMaxPointerJumps = 127;
constexpr uint16_t kClassIn = 1;
constexpr uint32_t kMaxTtl = 0x7fffffff;  // RFC 2181 8: larger values are read as zero

// Where in the message a field sits, spelled out only when an error needs it.
struct Where {
  const char* section;  // "header", "question", "answer"
  size_t index = 0;     // 1-based record number; 0 for the header
  const char* field = "";

  std::string describe() const {
    if (index == 0) return section;
    return std::string(section) + " " + std::to_string(index) + " " + field;
  }
};

Error cutShort(size_t size, const Where& where) {
  return makeError("DNS response cut short at byte " + std::to_string(size) + ", in " +
                   where.describe());
}

Error badName(const std::string& why, const Where& where) {
  return makeError("DNS response has a bad name in " + where.describe() + ": " + why);
}

uint16_t readU16(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>(bytes[offset] << 8 | bytes[offset + 1]);
}

uint32_t readU32(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint32_t>(readU16(bytes, offset)) << 16 | readU16(bytes, offset + 2);
}

// Reads the name at `offset` into `out` (lower-cased, dotted, no trailing dot) and returns the
// offset just after it where it sits, i.e. after its first compression pointer if it has one.
// Pointers may point forward or backward; the jump count and the 255-byte limit bound the work.
Result<size_t> readName(std::span<const uint8_t> bytes, size_t offset, std::string& out,
                        const Where& where) {
  out.clear();
  size_t pos = offset;
  size_t next = 0;        // 0: no pointer followed yet
  size_t wireLength = 1;  // the root label
  int jumps = 0;
  while (true) {
    if (pos >= bytes.size()) return cutShort(bytes.size(), where);
    uint8_t length = bytes[pos];
    if ((length & kPointerBits) == kPointerBits) {
      if (pos + 1 >= bytes.size()) return cutShort(bytes.size(), where);
      size_t target = static_cast<size_t>(length & ~kPointerBits) << 8 | bytes[pos + 1];
      if (next == 0) next = pos + 2;
      if (++jumps > kMaxPointerJumps) return badName("compression pointer loop", where);
      if (target < kHeaderSize || target >= bytes.size()) {
        return badName(
            "compression pointer to byte " + std::to_string(target) + ", outside the message body",
            where);
      }
      pos = target;
      continue;
    }
    if (length == 0) {
      if (next == 0) next = pos + 1;
      return next;
    }
    // Lengths 64..191 carry the reserved 01 / 10 label types (RFC 6891 retired them).
    if (length > 63) {
      return badName("label of " + std::to_string(length) + " bytes, more than 63", where);
    }
    wireLength += 1 + length;
    if (wireLength > kMaxNameWireLength) return badName("name longer than 255 bytes", where);
    if (pos + 1 + length > bytes.size()) return cutShort(bytes.size(), where);
    if (!out.empty()) out.push_back('.');
    for (size_t i = pos + 1; i <= pos + length; ++i) {
      char c = static_cast<char>(bytes[i]);
      // A dot inside a label would make two different names print alike; control and non-ASCII
      // bytes have no place in the host names we match and log.
      if (c <= ' ' || c > '~' || c == '.') {
        return badName("label byte " + std::to_string(bytes[i]) + " is not printable ASCII", where);
      }
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out.push_back(c);
    }
    pos += 1 + length;
  }
}

Result<size_t> readRecord(std::span<const uint8_t> bytes, size_t pos, size_t index,
                          DnsRecord& record) {
  Where where{"answer", index, "name"};
  auto afterName = readName(bytes, pos, record.name, where);
  if (!afterName) return afterName.error();
  pos = *afterName;
  where.field = "type, class, TTL and length";
  if (pos + kRecordFixedSize > bytes.size()) return cutShort(bytes.size(), where);
  record.type = readU16(bytes, pos);
  uint16_t recordClass = readU16(bytes, pos + 2);
  record.ttl = readU32(bytes, pos + 4);
  if (record.ttl > kMaxTtl) record.ttl = 0;
  size_t dataLength = readU16(bytes, pos + 8);
  size_t data = pos + kRecordFixedSize;
  size_t dataEnd = data + dataLength;
  where.field = "data";
  if (dataEnd > bytes.size()) return cutShort(bytes.size(), where);
  if (recordClass != kClassIn) return dataEnd;

  auto wrongLength = [&](const char* what) {
    return makeError("DNS response has " + std::string(what) + " data of " +
                     std::to_string(dataLength) + " bytes in " + where.describe());
  };
  if (record.type == kDnsTypeA) {
    if (dataLength != 4) return wrongLength("A");
    record.address = IpAddress::fromV4(bytes.data() + data);
  } else if (record.type == kDnsTypeAaaa) {
    if (dataLength != 16) return wrongLength("AAAA");
    record.address = IpAddress::fromV6(bytes.data() + data);
  } else if (record.type == kDnsTypeCname) {
    // The target may point anywhere in the message, but its own bytes must fill the data exactly.
    auto afterTarget = readName(bytes, data, record.target, where);
    if (!afterTarget) return afterTarget.error();
    if (*afterTarget != dataEnd) return wrongLength("CNAME");
  }
  return dataEnd;
}

}  // namespace

Result<DnsMessage> parseDnsMessage(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) return cutShort(bytes.size(), Where{"header"});
  DnsMessage message;
  message.id = readU16(bytes, 0);
  message.isResponse = (bytes[2] & kQrBit) != 0;
  if (!message.isResponse) return makeError("DNS message is a query, not a response");
  unsigned opcode = (bytes[2] >> 3) & 0x0f;
  if (opcode != 0) {
    return makeError("DNS response has opcode " + std::to_string(opcode) +
                     ", not a standard query");
  }
  message.truncated = (bytes[2] & kTcBit) != 0;
  message.rcode = bytes[3] & 0x0f;
  size_t questionCount = readU16(bytes, 4);
  size_t answerCount = readU16(bytes, 6);

  // Every question is read to find where the answers start; only the first is kept.
  size_t pos = kHeaderSize;
  std::string name;
  for (size_t i = 1; i <= questionCount; ++i) {
    Where where{"question", i, "name"};
    auto afterName = readName(bytes, pos, name, where);
    if (!afterName) return afterName.error();
    pos = *afterName;
    where.field = "type and class";
    if (pos + kQuestionFixedSize > bytes.size()) return cutShort(bytes.size(), where);
    if (i == 1) {
      message.questionName = name;
      message.questionType = readU16(bytes, pos);
    }
    pos += kQuestionFixedSize;
  }

  // The count comes from the packet; reserve no more than the bytes could hold.
  message.answers.reserve(std::min(answerCount, (bytes.size() - pos) / kMinRecordSize));
  for (size_t i = 1; i <= answerCount; ++i) {
    DnsRecord record;
    auto afterRecord = readRecord(bytes, pos, i, record);
    if (!afterRecord) return afterRecord.error();
    pos = *afterRecord;
    message.answers.push_back(std::move(record));
  }
  return message;
}

std::vector<LearnedAddress> learnedAddresses(const DnsMessage& message) {
  std::vector<LearnedAddress> learned;
  if (message.questionName.empty()) return learned;

  // The first CNAME of each owner; a second one for the same owner is invalid and ignored.
  std::unordered_map<std::string_view, const DnsRecord*> cnames;
  for (const DnsRecord& record : message.answers) {
    if (record.type == kDnsTypeCname && !record.target.empty()) {
      cnames.emplace(record.name, &record);
    }
  }

  // The chain from the question name; chainTtl[i] is the smallest TTL of the CNAMEs that lead
  // to chain[i]. Each step needs an owner not yet on the chain, so a loop ends the walk.
  std::vector<std::string_view> chain{message.questionName};
  std::vector<uint32_t> chainTtl{std::numeric_limits<uint32_t>::max()};
  std::unordered_map<std::string_view, size_t> position{{message.questionName, 0}};
  for (auto link = cnames.find(chain.back()); link != cnames.end();
       link = cnames.find(chain.back())) {
    const DnsRecord& cname = *link->second;
    if (!position.emplace(cname.target, chain.size()).second) break;
    chainTtl.push_back(std::min(chainTtl.back(), cname.ttl));
    chain.push_back(cname.target);
  }

  std::unordered_map<IpAddress, size_t, IpAddressHash> learnedIndex;
  for (const DnsRecord& record : message.answers) {
    if (!record.address) continue;
    auto owner = position.find(record.name);
    if (owner == position.end()) continue;
    uint32_t ttl = std::min(chainTtl[owner->second], record.ttl);
    auto [known, isNew] = learnedIndex.emplace(*record.address, learned.size());
    if (!isNew) {
      learned[known->second].ttl = std::min(learned[known->second].ttl, ttl);
      continue;
    }
    LearnedAddress entry{*record.address, {}, ttl};
    entry.names.assign(chain.begin(),
                       chain.begin() + static_cast<std::ptrdiff_t>(owner->second) + 1);
    learned.push_back(std::move(entry));
  }
  return learned;
}

}  // namespace shadowai
