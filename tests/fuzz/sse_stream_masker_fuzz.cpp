// Fuzzes the streamed-answer masker: arbitrary bytes go through SseParser, then SseStreamMasker with
// the tests' fake masker, for the adapter the first byte picks. Besides crashes, it checks what a
// client would receive: every event re-parses after writing, its data is still what the adapter
// understands, and no SECRET-<digits> word survives in any text, even one split across deltas.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../unit/fake_text_masker.h"
#include "mask/sse_stream_masker.h"
#include "providers/sse_parser.h"
#include "providers/sse_writer.h"

namespace {

using shadowai::testing::FakeTextMasker;

void check(bool condition) {
  if (!condition) std::abort();
}

struct Api {
  std::string_view family;
  std::string_view target;
};
constexpr Api kApis[] = {
    {"openai-chat", "/v1/chat/completions"},
    {"openai-chat", "/v1/responses"},
    {"anthropic-messages", "/v1/messages"},
    {"gemini", "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"},
};

// No whole word of TEXT is an unmasked secret.
void checkNoSecret(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (!FakeTextMasker::isWordChar(text[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && FakeTextMasker::isWordChar(text[i])) ++i;
    std::string_view word = text.substr(start, i - start);
    while (!word.empty() && word.back() == '.') word.remove_suffix(1);
    bool secret = word.starts_with("SECRET-") && word.size() > 7 &&
                  word.substr(7).find_first_not_of("0123456789") == std::string_view::npos;
    check(!secret);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Api& api = kApis[data[0] % std::size(kApis)];
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  auto adapter = shadowai::adapterFor(api.family, "host", "POST", api.target);
  FakeTextMasker masker;
  shadowai::SseStreamMasker streamMasker(*adapter, masker);
  shadowai::SseParser parser;

  auto inputs = parser.feed(stream);
  if (!inputs) return 0;
  std::vector<shadowai::SseEvent> sent;
  bool failed = false;
  for (const auto& event : *inputs) {
    auto out = streamMasker.onEvent(event);
    if (!out) {
      failed = true;
      break;
    }
    sent.insert(sent.end(), out->begin(), out->end());
  }
  if (!failed) {
    auto rest = streamMasker.finish();
    if (rest) sent.insert(sent.end(), rest->begin(), rest->end());
  }

  std::map<std::string, std::string> channels;
  for (const auto& event : sent) {
    std::string written = shadowai::serializeSseEvent(event);
    shadowai::SseParser again;
    auto back = again.feed(written);
    check(back.ok());
    if (!written.empty()) {
      check(back->size() == 1 && (*back)[0].data == event.data && (*back)[0].hasData == event.hasData);
    }
    auto chunk = adapter->parseStreamEvent(event);
    check(chunk.ok());
    for (const auto& segment : chunk->generated) {
      if (segment.channel.empty()) {
        checkNoSecret(segment.text);
      } else {
        channels[segment.channel] += segment.text;
      }
    }
  }
  for (const auto& [name, text] : channels) checkNoSecret(text);
  return 0;
}
