// Parser for DNS responses (RFC 1035) copied by BPF from UDP packets, and the step that turns one
// into "these names lead to this address". The bytes are untrusted: every length is checked, name
// compression is followed with a bound, and a message that does not parse cleanly is refused whole
// rather than half-learned.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/ip_address.h"

namespace shadowai {

struct DnsRecord {
  std::string name;   // owner name, lower-cased, no trailing dot
  uint16_t type = 0;  // 1 A, 28 AAAA, 5 CNAME; other types are kept with empty data
  uint32_t ttl = 0;   // values with the top bit set read as 0 (RFC 2181 8)
  // Data only for class IN: in another class the same type numbers mean something else.
  std::optional<IpAddress> address;  // A / AAAA
  std::string target;                // CNAME target, lower-cased
};

struct DnsMessage {
  uint16_t id = 0;
  bool isResponse = false;
  bool truncated = false;  // TC bit
  uint8_t rcode = 0;
  std::string questionName;  // first question, lower-cased
  uint16_t questionType = 0;
  std::vector<DnsRecord> answers;  // answer section only
};

inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypeCname = 5;
inline constexpr uint16_t kDnsTypeAaaa = 28;

// Parses a standard-query response (QR=1, opcode 0) up to the end of its answer section; the
// authority and additional sections are not read. Errors: a query, a cut message (the message says
// where), a bad name (label over 63 bytes, name over 255, compression loop, a label byte outside
// printable ASCII or a '.' inside a label), and an A / AAAA record whose rdata is not 4 / 16 bytes
// (a server that gets that wrong is not one to learn addresses from).
Result<DnsMessage> parseDnsMessage(std::span<const uint8_t> bytes);

// An address learned from a response, with every name that leads to it through the CNAME chain
// (question name first, canonical name last) and the smallest TTL along that chain.
struct LearnedAddress {
  IpAddress address;
  std::vector<std::string> names;
  uint32_t ttl = 0;
};

// Follows the CNAME chain from the question name (the records may come in any order; a loop ends
// the walk) and returns the class IN A / AAAA records owned by a name on it, in answer order, one
// entry per address. Records not reachable from the question are ignored: they answer nothing that
// was asked, and learning from them would let a response attach any name to any address.
std::vector<LearnedAddress> learnedAddresses(const DnsMessage& message);

}  // namespace shadowai
