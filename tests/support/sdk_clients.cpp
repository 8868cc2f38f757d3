#include "support/sdk_clients.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#ifndef SHADOWAI_TEST_CLIENTS_DIR
#error "SHADOWAI_TEST_CLIENTS_DIR (tests/clients in the source tree) must be defined"
#endif

namespace shadowai::test {
namespace {

const char* scriptName(SdkClient client) {
  switch (client) {
    case SdkClient::kOpenAi: return "openai_client.mjs";
    case SdkClient::kAnthropic: return "anthropic_client.mjs";
    case SdkClient::kGemini: return "gemini_client.mjs";
  }
  return "";
}

bool foundInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream entries(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string directory;
  while (std::getline(entries, directory, ':')) {
    if (::access(((directory.empty() ? "." : directory) + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string lastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return {};
  size_t start = text.find_last_of('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
}

std::string stringOr(const nlohmann::json& line, const char* key) {
  auto found = line.find(key);
  return found != line.end() && found->is_string() ? found->get<std::string>() : std::string();
}

}  // namespace

const char* sdkClientHost(SdkClient client) {
  switch (client) {
    case SdkClient::kOpenAi: return "api.openai.com";
    case SdkClient::kAnthropic: return "api.anthropic.com";
    case SdkClient::kGemini: return "generativelanguage.googleapis.com";
  }
  return "";
}

const char* sdkClientDefaultKey(SdkClient client) {
  switch (client) {
    case SdkClient::kOpenAi: return "sk-shadowai-test-openai-key";
    case SdkClient::kAnthropic: return "sk-ant-shadowai-test-anthropic-key";
    case SdkClient::kGemini: return "AIzaShadowaiTestGeminiKey";
  }
  return "";
}

std::string nodeUnavailableReason() {
  if (foundInPath("node")) return {};
  return "node (Node.js) is not in PATH; scripts/install-test-clients.sh installs it";
}

Status sdkClientsInstalled() {
  const std::string stamp = std::string(SHADOWAI_TEST_CLIENTS_DIR) + "/node_modules/.shadowai-installed";
  if (::access(stamp.c_str(), R_OK) != 0) {
    return makeError("the SDK test clients are not installed (no " + stamp + "): run scripts/install-test-clients.sh");
  }
  return {};
}

Result<SdkCallResult> runSdkClient(SdkClient client, const std::vector<std::string>& args, const std::string& caPath,
                                   SpawnOptions options, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {"node", std::string(SHADOWAI_TEST_CLIENTS_DIR) + "/" + scriptName(client)};
  argv.insert(argv.end(), args.begin(), args.end());
  if (!caPath.empty()) options.environment.emplace_back("NODE_EXTRA_CA_CERTS", caPath);
  options.captureOutput = true;
  auto child = ChildProcess::spawn(argv, options);
  if (!child) return child.error();
  auto exitCode = child->wait(timeout);
  if (!exitCode) return makeError(exitCode.error().describe() + "\n" + child->describeOutput());
  if (*exitCode != 0) {
    return makeError("test client exited with " + std::to_string(*exitCode) + "\n" + child->describeOutput());
  }
  SdkCallResult result;
  result.line = nlohmann::json::parse(lastLine(child->stdoutText()), nullptr, false);
  if (result.line.is_discarded() || !result.line.is_object()) {
    return makeError("test client printed no JSON line\n" + child->describeOutput());
  }
  result.ok = result.line.value("ok", false);
  result.text = stringOr(result.line, "text");
  result.events = result.line.value("events", 0);
  result.model = stringOr(result.line, "model");
  result.usage = result.line.value("usage", nlohmann::json());
  result.status = result.line.value("status", 0);
  result.errorType = stringOr(result.line, "errorType");
  result.message = stringOr(result.line, "message");
  return result;
}

Result<CurlResult> runCurl(const std::string& caPath, const std::vector<std::string>& args, SpawnOptions options,
                           std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {"curl", "-q", "--silent", "--show-error", "--noproxy", "*", "--http1.1",
                                   "--max-time", "30", "--cacert", caPath};
  argv.insert(argv.end(), args.begin(), args.end());
  options.captureOutput = true;
  auto child = ChildProcess::spawn(argv, options);
  if (!child) return child.error();
  auto exitCode = child->wait(timeout);
  if (!exitCode) return makeError(exitCode.error().describe() + "\n" + child->describeOutput());
  return CurlResult{*exitCode, child->stdoutText(), child->stderrText()};
}

}  // namespace shadowai::test
