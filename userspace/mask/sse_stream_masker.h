// Masking a streamed (SSE) answer event by event. Each stream channel the adapter names (a choice's
// content, a content block, a tool call's arguments) gets its own TextStream, so a value split across
// deltas is still caught; the stream may hold back a bounded tail, which comes out later: in the
// channel's next delta, or, when the channel ends, in an event synthesized from the channel's last
// delta event (same type and shape, so SDKs parse it) and sent just before the event that ends it.
// When no channel is holding anything an event goes out at once with all its text.
//
// Fail closed: an event that cannot be parsed, masked or rewritten is an error, the masker stays
// failed, and the caller must end the answer (with the provider's error) rather than forward it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "mask/text_masker.h"
#include "providers/provider_adapter.h"

namespace shadowai {

class SseStreamMasker {
 public:
  // Both must outlive the masker.
  SseStreamMasker(const ProviderAdapter& adapter, TextMasker& masker) : adapter_(adapter), masker_(masker) {}

  // The events to send, in order, for one event of the upstream: flushes of channels it ends, then
  // the event itself with its texts masked. Events without text (pings, comments, "[DONE]") pass
  // through unchanged.
  Result<std::vector<SseEvent>> onEvent(const SseEvent& event);
  // End of the upstream stream: flushes of the channels still open (normally none, since the
  // provider's final event ends them all).
  Result<std::vector<SseEvent>> finish();

  // Whether some channel holds text not sent yet.
  bool holding() const;

 private:
  struct Channel {
    std::string name;
    std::unique_ptr<TextStream> stream;
    // The channel's last delta event as received and where its texts sit: the model for a flush.
    SseEvent lastEvent;
    std::vector<TextSegment> lastSegments;
    size_t lastSegment = 0;  // which of lastSegments is the channel's last delta
    uint64_t lastEventNumber = 0;
  };

  Result<std::vector<SseEvent>> process(const SseEvent& event);
  Channel& channelNamed(const std::string& name);
  Result<SseEvent> flushEvent(const Channel& channel, const std::string& text) const;

  const ProviderAdapter& adapter_;
  TextMasker& masker_;
  std::vector<Channel> channels_;  // open channels, in the order they opened (a handful per answer)
  uint64_t eventNumber_ = 0;  // events seen, to tell whether a channel's last delta is in this one
  bool failed_ = false;
};

}  // namespace shadowai
