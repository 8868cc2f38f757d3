// Runs the official LLM SDKs, unmodified, from a test: the Node.js clients in tests/clients (installed
// by scripts/install-test-clients.sh) call the real host names with the SDKs' default base URLs, so a
// test points those names at its own servers with setHostsFile() and has them trust its TestCa
// (NODE_EXTRA_CA_CERTS). Each client prints one JSON line, read back here as an SdkCallResult. Also
// curl, for the same calls without an SDK.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/child_process.h"

namespace shadowai::test {

enum class SdkClient { kOpenAi, kAnthropic, kGemini };

// The host each client calls: api.openai.com, api.anthropic.com, generativelanguage.googleapis.com.
const char* sdkClientHost(SdkClient client);
// The placeholder key each client sends unless given --api-key.
const char* sdkClientDefaultKey(SdkClient client);

// Why the clients cannot run, "" when they can: node is not in PATH (a test skips then), or the SDKs
// are not installed next to the clients (a test fails then: scripts/install-test-clients.sh).
std::string nodeUnavailableReason();
Status sdkClientsInstalled();

struct SdkCallResult {
  bool ok = false;
  // When ok: the generated text, the number of stream events (0 for a plain call), the model the
  // answer names and its usage object as the SDK returned it.
  std::string text;
  int events = 0;
  std::string model;
  nlohmann::json usage;
  // When !ok: the HTTP status (0 for a connection failure or timeout), the provider's error type
  // (OpenAI error.type, Anthropic error.error.type, Gemini error.status) and message.
  int status = 0;
  std::string errorType;
  std::string message;
  nlohmann::json line;  // everything the client printed
};

// Runs CLIENT with ARGS (--api, --stream, --model, --prompt, --api-key, --max-tokens, --timeout-ms),
// trusting CA_PATH besides the system's CAs; OPTIONS add environment or a cgroup to join. Fails
// when the client does not exit 0 within TIMEOUT (a harness bug) or prints no JSON line.
Result<SdkCallResult> runSdkClient(SdkClient client, const std::vector<std::string>& args, const std::string& caPath,
                                   SpawnOptions options = {},
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

struct CurlResult {
  int exitCode = 0;
  std::string output;  // stdout
  std::string errors;  // stderr
};

// curl as a workload would run it: no ~/.curlrc, no proxy from the environment, CA_PATH as its only
// CA, HTTP/1.1, a 30 s limit; ARGS follow (URLs, -d, -H, --next, -w ...).
Result<CurlResult> runCurl(const std::string& caPath, const std::vector<std::string>& args, SpawnOptions options = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace shadowai::test
