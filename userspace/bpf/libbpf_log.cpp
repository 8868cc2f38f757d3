#include "bpf/libbpf_log.h"

#include <bpf/libbpf.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace shadowai {
namespace {
std::atomic<bool> verboseLog{false};

int printLibbpf(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && !verboseLog.load()) return 0;
  // libbpf's messages carry their own "libbpf: " prefix.
  return std::vfprintf(stderr, format, args);
}
}  // namespace

void routeLibbpfLog(bool verbose) {
  verboseLog.store(verbose);
  libbpf_set_print(printLibbpf);
}

}  // namespace shadowai
