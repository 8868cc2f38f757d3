// splice_bench's scenario: a TLS server outside the catalog (so the proxy splices it), the
// variants measured side by side (outside the daemon's cgroup, detect mode, enforce mode), the
// goals and the options.
#pragma once

#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace shadowai::bench::splice {

using namespace std::chrono_literals;

inline constexpr const char* kServerName = "www.bench.test";  // not in the catalog: the proxy splices it
inline constexpr const char* kServerAddress = "127.0.0.2";
inline constexpr uint16_t kServerPort = 443;  // a redirected port
inline constexpr int kListenBacklog = 4096;
inline constexpr size_t kChunk = 64 * 1024;  // bulk reads and writes, both ends
// A client waits this long for any one step; a stuck proxy or server then fails the step instead
// of holding the benchmark.
inline constexpr int kClientIoTimeoutSeconds = 5;
// A request to a worker fails after this many failed connections rather than waiting out one
// timeout per connection.
inline constexpr uint32_t kMaxFailuresPerRequest = 3;
inline constexpr uint32_t kMaxSamplesPerRequest = 10'000;
inline constexpr auto kWorkerRequestTimeout = 120s;
// A daemon out of file descriptors cannot accept on its control socket either, and the CLI then
// waits for an answer that never comes: the idle phase polls with this shorter bound.
inline constexpr auto kStatusPollTimeout = 3s;
inline constexpr auto kSettleTimeout = 5s;

inline constexpr double kHandshakeRatioGoal = 1.2;
inline constexpr double kThroughputShareGoal = 0.8;
inline constexpr double kIdleKiBGoal = 32;

inline constexpr const char* kEnforcedCgroup = "enforced";
inline constexpr const char* kDirectCgroup = "direct";

struct Variant {
  const char* key;     // JSON
  const char* name;    // humans
  const char* cgroup;  // child of the daemon's cgroup; nullptr: outside it
};

enum VariantIndex : size_t { kOutside = 0, kDirect = 1, kSpliced = 2, kVariantCount = 3 };

inline constexpr std::array<Variant, kVariantCount> kVariants = {{
    {"outside", "outside the daemon's cgroup", nullptr},
    {"direct", "detect mode (direct)", kDirectCgroup},
    {"spliced", "enforce mode (spliced)", kEnforcedCgroup},
}};

struct Options {
  std::string daemonBinary;
  std::string cliBinary;
  int handshakes = 2000;  // per variant, all rounds
  int rounds = 5;
  int warmup = 200;       // per variant, before the first round
  int bulkMib = 512;      // per variant and direction, all rounds
  int bulkRounds = 4;
  int idle = 2000;
  unsigned proxyThreads = 0;  // the daemon's default: one per CPU
  rlim_t daemonOpenFiles = 0;  // 0: the benchmark's own (its hard limit)
  bool json = false;
};

}  // namespace shadowai::bench::splice
