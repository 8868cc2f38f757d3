// request_memory_bench: how much memory masking one large prompt holds at its peak, per byte of
// body, next to the body alone. That figure is what intercept.max_buffered_bytes reserves per body
// byte (kHeldBytesPerBodyByte, docs/daemon.md "How memory is bounded"): if this bench prints more
// than the reservation, the budget under-counts and must follow.
//
//   build/bench/request_memory_bench [MiB ...]      (default: 8 30)
//
// Each run: an OpenAI chat request whose one user message is English-like prose of the given size
// with a value to mask every ~10 KB, parsed by the adapter and masked by the real engine with every
// built-in detector, as the proxy does (maskRequestBody). The peak is the process's VmHWM, reset
// before each run through /proc/self/clear_refs.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "intercept/body_budget.h"
#include "mask/call_masker.h"
#include "mask/json_splice.h"
#include "mask/mask_session.h"
#include "providers/provider_adapter.h"
#include "support/shipped_detectors.h"

namespace {

using namespace shadowai;

uint64_t statusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10) * 1024;
  }
  return 0;
}

void resetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

// LINE_BREAKS: a line break every ~80 bytes, as pasted prompts have; each is "\n" in the body, so
// the token holds escapes and is decoded to be compared.
std::string proseWithValues(size_t size, bool lineBreaks) {
  static const char* kWords[] = {"the", "quarterly", "report", "lists", "every", "region", "and", "its",
                                 "revenue", "in", "detail", "before", "Monday"};
  std::string text;
  text.reserve(size + 64);
  uint64_t state = 7;
  size_t next = 10'000;
  while (text.size() < size) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    text += kWords[(state >> 33) % (sizeof kWords / sizeof *kWords)];
    text += lineBreaks && text.size() % 80 < 8 ? "\\n" : " ";
    if (text.size() >= next) {
      text += "mail jane.roe@example.com ";
      next += 10'000;
    }
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  // As shadowaid does (userspace/exe/shadowaid.cpp): large bodies are mapped and unmapped when freed.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  std::vector<size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoull(argv[i], nullptr, 10) << 20);
  if (sizes.empty()) sizes = {8u << 20, 30u << 20};
  auto detectors = DetectorSet::compile(shippedDetectors());
  if (!detectors) {
    std::fprintf(stderr, "request_memory_bench: %s\n", detectors.error().describe().c_str());
    return 1;
  }
  auto rules = MaskRules::everything(*detectors);
  const std::string target = "/v1/chat/completions";
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", target);

  std::printf("%-10s %-12s %14s %16s %18s %10s\n", "body", "prompt", "body alone", "masking peak",
              "peak per body byte", "reserved");
  for (size_t size : sizes) for (bool lineBreaks : {false, true}) {
    std::string body = R"({"model":"gpt-4o","messages":[{"role":"user","content":")" +
                       proseWithValues(size, lineBreaks) + R"("}]})";
    // As the proxy keeps a body it has read (intercept_session.cpp): with room for the JSON reader.
    reserveJsonPadding(body);
    const uint64_t base = statusBytes("VmRSS");
    resetPeak();
    MaskSession session(rules, nullptr);
    auto parsed = adapter->parseRequest(target, body);
    if (!parsed) {
      std::fprintf(stderr, "request_memory_bench: %s\n", parsed.error().describe().c_str());
      return 1;
    }
    auto masked = maskRequestBody(std::move(*parsed), body, session, body.capacity());
    if (!masked || !*masked) {
      std::fprintf(stderr, "request_memory_bench: nothing masked\n");
      return 1;
    }
    const uint64_t peak = statusBytes("VmHWM");
    // The body is resident before the run; what the run adds is over the base.
    const double perByte = static_cast<double>(peak - base + body.size()) / static_cast<double>(body.size());
    std::printf("%7zu MiB %-12s %10.1f MiB %12.1f MiB %17.2fx %9zux\n", size >> 20,
                lineBreaks ? "line breaks" : "one line", body.size() / 1048576.0,
                (peak - base + body.size()) / 1048576.0, perByte, kHeldBytesPerBodyByte);
  }
  return 0;
}
