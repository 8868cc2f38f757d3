// Fuzzes the DNS response parser and the CNAME walk. Besides crashes and sanitizer reports, it
// checks that whatever parses is well formed: bounded, lower-case names, and learned addresses
// whose chain starts at the question.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/dns_message.h"

namespace {

bool isCleanName(const std::string& name) {
  if (name.size() > 253) return false;
  for (char c : name) {
    if (c <= ' ' || c > '~' || (c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto message = shadowai::parseDnsMessage(std::span<const uint8_t>(data, size));
  if (!message) {
    check(!message.error().message.empty());
    return 0;
  }
  check(message->isResponse);
  check(isCleanName(message->questionName));
  for (const auto& record : message->answers) {
    check(isCleanName(record.name) && isCleanName(record.target));
  }
  for (const auto& learned : shadowai::learnedAddresses(*message)) {
    check(!learned.names.empty() && learned.names.front() == message->questionName);
    check(learned.names.size() <= message->answers.size() + 1);
  }
  return 0;
}
