// intercept_bench's scenario: the provider, nginx and the proxy on their addresses, the keys the
// client sends and the proxies put in, the variants measured side by side, the parties whose CPU
// time is read, and the options.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shadowai::bench::intercept {

using namespace std::chrono_literals;

inline constexpr const char* kProviderHost = "api.openai.com";  // in the shipped catalog: intercepted
inline constexpr const char* kUpstreamAddress = "127.0.0.2";     // the provider
inline constexpr const char* kNginxAddress = "127.0.0.3";        // nginx, posing as the provider
inline constexpr uint16_t kHttpsPort = 443;                       // a redirected port
inline constexpr const char* kPath = "/v1/chat/completions";
// What the workload sends, and what the proxies put in its place (shadowaid from its credentials
// file, nginx with proxy_set_header): the server's count by key proves which way a request went.
inline constexpr const char* kClientKey = "sk-bench-client-key-0123456789abcdef0123456789abcdef";
inline constexpr const char* kManagedKey = "sk-bench-managed-key-0123456789abcdef0123456789abcdef";
inline constexpr size_t kRequestBodyBytes = 2048;
inline constexpr size_t kResponseBodyBytes = 1024;

inline constexpr double kAddedP50GoalUs = 300;
inline constexpr double kThroughputShareGoal = 0.5;
inline constexpr double kAddedFirstEventGoalUs = 1000;

inline constexpr const char* kEnforcedCgroup = "enforced";
inline constexpr const char* kDirectCgroup = "direct";

inline constexpr auto kClientIoTimeout = 10s;
inline constexpr auto kWorkerRequestTimeout = 180s;
inline constexpr uint32_t kMaxSamplesPerRequest = 10'000;

// Variants and the parties whose CPU time is read

enum Party : size_t { kClientParty = 0, kServerParty, kDaemonParty, kNginxParty, kJournaldParty, kPartyCount };
inline constexpr std::array<const char*, kPartyCount> kPartyNames = {"client", "server", "shadowaid", "nginx", "journald"};

enum VariantIndex : size_t { kDirect = 0, kNginx, kShadowai, kShadowaiNoJournal, kVariantCount };

enum class WorkerRole { kDirect, kEnforced };

struct Variant {
  const char* key;   // JSON
  const char* name;  // humans
  WorkerRole worker;
  const char* address;
  bool journald;     // the private journald runs while this variant is measured
};

inline constexpr std::array<Variant, kVariantCount> kVariants = {{
    {"direct", "direct", WorkerRole::kDirect, kUpstreamAddress, true},
    {"nginx", "nginx", WorkerRole::kDirect, kNginxAddress, true},
    {"shadowai", "shadowai", WorkerRole::kEnforced, kUpstreamAddress, true},
    {"shadowai_no_journald", "shadowai, no journald", WorkerRole::kEnforced, kUpstreamAddress, false},
}};

struct Options {
  std::string daemonBinary;
  std::string cliBinary;
  std::string nginxBinary = "/usr/sbin/nginx";
  int rounds = 5;              // latency and stream rounds
  int requests = 1000;         // timed sequential requests per variant and round
  int warmup = 100;            // untimed requests first, per connection
  int streams = 100;           // timed streams per variant and round
  int streamEvents = 8;        // content events per stream (plus a usage event and [DONE])
  int eventGapUs = 500;        // between two events of a stream
  int throughputRounds = 3;
  double seconds = 3;          // per throughput run
  int connections = 16;
  int clientThreads = 2;
  int serverThreads = 2;
  unsigned proxyThreads = 0;   // shadowaid's default: one per CPU
  unsigned nginxWorkers = 0;   // 0: auto (one per CPU)
  bool journald = true;
  bool nginxAccessLog = true;
  std::vector<std::string> phases = {"latency", "streams", "throughput"};
  bool json = false;
  // The daemon's policy directory: the shipped default (masks every secret and PII detector in
  // prompts and answers) unless given; an empty policy measures interception without masking.
  std::string policyDir = SHADOWAI_SOURCE_RULES_DIR "/policy.d";
};

}  // namespace shadowai::bench::intercept
