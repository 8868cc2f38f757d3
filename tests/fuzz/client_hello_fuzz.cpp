// Fuzzes the ClientHello parser. Besides crashes and sanitizer reports, it checks the promises the
// proxy relies on: a name only with kOk or kTruncated, always a clean host name, and a cut copy of
// a hello never names a different host than the whole one.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/client_hello.h"

namespace {

bool isCleanHostName(const std::string& name) {
  if (name.size() > 253) return false;
  for (char c : name) {
    bool allowed =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!allowed) return false;
  }
  return true;
}

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  auto whole = shadowai::parseClientHello(bytes);
  bool usable = whole.status == shadowai::ClientHelloStatus::kOk ||
                whole.status == shadowai::ClientHelloStatus::kTruncated;
  check(usable || (whole.serverName.empty() && whole.alpn.empty()));
  check(isCleanHostName(whole.serverName));

  if (whole.status == shadowai::ClientHelloStatus::kOk && size > 0) {
    auto cut = shadowai::parseClientHello(bytes.first(size / 2));
    // Bytes after the hello are ignored, so the cut may still hold all of it.
    if (cut.status == shadowai::ClientHelloStatus::kOk) {
      check(cut.serverName == whole.serverName && cut.alpn == whole.alpn);
    } else {
      check(cut.status == shadowai::ClientHelloStatus::kTruncated);
      check(cut.serverName.empty() || cut.serverName == whole.serverName);
      check(cut.alpn.empty() || cut.alpn == whole.alpn);
    }
  }
  return 0;
}
