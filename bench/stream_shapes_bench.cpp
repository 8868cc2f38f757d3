// stream_shapes_bench: how the work of masking a streamed answer grows with shapes a provider
// controls. Each shape is timed at doubling sizes through SseStreamMasker with the full built-in
// detector set, as the proxy runs it, and the ratio to the size before is printed: 2 per doubling is
// linear, 4 quadratic.
//
//   build/bench/stream_shapes_bench [--rounds N]
//
// Shapes (openai-chat chunks; building them is not timed):
//  * one event, N choices: a single chunk whose N choices each carry "ok ", then [DONE].
//  * N events, a new choice each: chunk i carries "ok " for choice i; [DONE] then ends all N.
//  * 1-byte deltas of prose: N chunks of one byte each for choice 0, then finish_reason and [DONE].
//  * one delta of N short emails: "x@y.io " N times in one chunk (matches closer than the email
//    pattern's longest one: each start search must stay on its own stretch of text).
// The proxy refuses an answer naming more than SseStreamMasker::kMaxChannels (1024) channels; the
// first two shapes lift that cap here to time the work per channel, which is what the cap multiplies.
// A figure is the CPU time of the masking thread, the best of --rounds runs (default 3): the machine
// this runs on is shared, and other load only ever adds time (wall time would add its waits too).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mask/mask_session.h"
#include "mask/sse_stream_masker.h"
#include "providers/provider_adapter.h"
#include "support/shipped_detectors.h"

namespace {

using Json = nlohmann::json;
using shadowai::SseEvent;

SseEvent dataEvent(std::string data) {
  SseEvent event;
  event.data = std::move(data);
  event.hasData = true;
  return event;
}

Json chunkWith(Json choices) {
  return {{"id", "chatcmpl-1"}, {"object", "chat.completion.chunk"}, {"created", 1694268190},
          {"model", "gpt-4o-mini"}, {"choices", std::move(choices)}};
}

Json choice(size_t index, std::string_view content) {
  return {{"index", index}, {"delta", {{"content", content}}}, {"finish_reason", nullptr}};
}

std::vector<SseEvent> oneEventManyChoices(size_t n) {
  Json choices = Json::array();
  for (size_t i = 0; i < n; ++i) choices.push_back(choice(i, "ok "));
  return {dataEvent(chunkWith(std::move(choices)).dump()), dataEvent("[DONE]")};
}

std::vector<SseEvent> newChoicePerEvent(size_t n) {
  std::vector<SseEvent> events;
  for (size_t i = 0; i < n; ++i) events.push_back(dataEvent(chunkWith(Json::array({choice(i, "ok ")})).dump()));
  events.push_back(dataEvent("[DONE]"));
  return events;
}

std::vector<SseEvent> oneByteProse(size_t n) {
  static const char kProse[] =
      "The quarterly review shows revenue growth in Europe and a steady customer base; we should look at "
      "the numbers again before Monday, because they differ from last year. ";
  std::vector<SseEvent> events;
  for (size_t i = 0; i < n; ++i) {
    events.push_back(dataEvent(chunkWith(Json::array({choice(0, std::string(1, kProse[i % (sizeof kProse - 1)]))})).dump()));
  }
  Json finish = {{"index", 0}, {"delta", Json::object()}, {"finish_reason", "stop"}};
  events.push_back(dataEvent(chunkWith(Json::array({finish})).dump()));
  events.push_back(dataEvent("[DONE]"));
  return events;
}

std::vector<SseEvent> oneDeltaOfShortEmails(size_t n) {
  std::string content;
  for (size_t i = 0; i < n; ++i) content += "x@y.io ";
  return {dataEvent(chunkWith(Json::array({choice(0, content)})).dump()), dataEvent("[DONE]")};
}

std::shared_ptr<const shadowai::MaskRules> rules() {
  static auto made = [] {
    auto compiled = shadowai::DetectorSet::compile(shadowai::shippedDetectors());
    if (!compiled) {
      std::fprintf(stderr, "stream_shapes_bench: %s\n", compiled.error().describe().c_str());
      std::exit(1);
    }
    return shadowai::MaskRules::everything(*compiled);
  }();
  return made;
}

double threadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// CPU seconds to mask EVENTS as one answer, or a negative number when the masker refused it.
double timeAnswer(const shadowai::ProviderAdapter& adapter, const std::vector<SseEvent>& events, size_t maxChannels) {
  auto key = std::make_shared<shadowai::PseudonymKey>(shadowai::PseudonymKey::fromBytes({}));
  shadowai::MaskSession session(rules(), key);
  shadowai::SseStreamMasker masker(adapter, session, maxChannels);
  size_t sent = 0;
  double start = threadCpuSeconds();
  for (const auto& event : events) {
    auto out = masker.onEvent(event);
    if (!out) return -1;
    sent += out->size();
  }
  auto rest = masker.finish();
  if (!rest) return -1;
  sent += rest->size();
  double took = threadCpuSeconds() - start;
  if (sent < events.size()) return -1;
  return took;
}

struct Shape {
  const char* name;
  std::vector<size_t> sizes;
  std::function<std::vector<SseEvent>(size_t)> make;
  size_t maxChannels;
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--rounds N]\n", argv[0]);
      return 2;
    }
  }
  auto adapter = shadowai::adapterFor("openai-chat", "api.openai.com", "POST", "/v1/chat/completions");
  rules();  // compile outside the timed runs
  constexpr size_t kUncapped = std::numeric_limits<size_t>::max();
  const std::vector<Shape> shapes = {
      {"one event, N choices", {500, 1000, 2000, 4000, 8000}, oneEventManyChoices, kUncapped},
      {"N events, a new choice each", {5000, 10000, 20000, 40000}, newChoicePerEvent, kUncapped},
      {"1-byte deltas of prose", {8192, 16384, 32768, 65536}, oneByteProse, shadowai::SseStreamMasker::kMaxChannels},
      {"one delta of N short emails", {10000, 20000, 40000, 80000}, oneDeltaOfShortEmails,
       shadowai::SseStreamMasker::kMaxChannels},
  };
  std::printf("%-30s %8s %12s %12s %8s\n", "shape", "N", "CPU ms", "us per N", "ratio");
  for (const auto& shape : shapes) {
    double previous = 0;
    for (size_t n : shape.sizes) {
      auto events = shape.make(n);
      double best = std::numeric_limits<double>::max();
      for (int round = 0; round < rounds; ++round) {
        double took = timeAnswer(*adapter, events, shape.maxChannels);
        if (took < 0) {
          std::fprintf(stderr, "stream_shapes_bench: %s, N=%zu: the masker refused the answer\n", shape.name, n);
          return 1;
        }
        best = std::min(best, took);
      }
      std::printf("%-30s %8zu %12.1f %12.2f", shape.name, n, best * 1e3, best * 1e6 / static_cast<double>(n));
      if (previous > 0) std::printf(" %8.2f", best / previous);
      std::printf("\n");
      std::fflush(stdout);
      previous = best;
    }
  }
  return 0;
}
