// Fuzzes the Host reading of a plain HTTP request's first bytes (the proxy's peek and the observed
// first packet both hand it what a workload sent). Besides crashes, it checks the host is clean:
// no port, no upper case, no whitespace or control bytes a journal field or a catalog match would
// trip on.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/http_request_host.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto host = shadowai::httpRequestHost(std::span<const uint8_t>(data, size));
  if (!host) return 0;
  check(!host->empty() && host->size() <= size);
  check(shadowai::startsLikeHttpRequest(std::span<const uint8_t>(data, size)));
  for (char c : *host) check(!(c >= 'A' && c <= 'Z') && static_cast<unsigned char>(c) > ' ' && c != 0x7f);
  check(host->back() != '.');
  return 0;
}
