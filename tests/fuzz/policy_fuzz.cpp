// Policy::fromString on arbitrary bytes: host owners write these files by hand, so every mistake must
// come back as problems (each with a message), never as a crash. A policy that does load must answer
// forCall and checkPrompt for any call without failing.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "support/shipped_detectors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  std::vector<shadowai::PolicyProblem> problems;
  auto policy = shadowai::Policy::fromString(json, "fuzz.json", shadowai::shippedBuiltinDetectors(), &problems);
  if (!policy) {
    if (problems.empty() || policy.error().message.empty()) std::abort();
    for (const shadowai::PolicyProblem& problem : problems) {
      if (problem.message.empty() || problem.file != "fuzz.json") std::abort();
    }
    return 0;
  }
  if (!problems.empty()) std::abort();
  shadowai::WorkloadFacts workload{
      "/system.slice/billing-etl.service", "billing-etl.service", "docker:3f00", 1000, "etl", "/usr/bin/python3"};
  shadowai::CallFacts call{"openai", "api.openai.com", "openai-chat", "gpt-4o"};
  for (const shadowai::WorkloadFacts& facts : {workload, shadowai::WorkloadFacts{}}) {
    shadowai::CallPolicy decided = (*policy)->forCall(facts, call);
    for (const std::string& name : decided.mask.requestDetectors) {
      if (!decided.mask.styles.contains(name)) std::abort();
    }
    // The input doubles as prompt text: whatever it holds, the reason never quotes it.
    std::vector<shadowai::TextSegment> prompt{{"user", std::string(json), nlohmann::json::json_pointer(), ""}};
    (void)(*policy)->checkPrompt(decided, prompt);
  }
  return 0;
}
