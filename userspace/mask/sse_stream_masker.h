// Masking a streamed (SSE) answer event by event. Each stream channel the adapter names (a choice's
// content, a content block, a tool call's arguments) gets its own TextStream, so a value split across
// deltas is still caught; the stream may hold back a bounded tail, which comes out later: in the
// channel's next delta, or, when the channel ends, in an event synthesized from the channel's last
// delta event (same type and shape, so SDKs parse it) and sent just before the event that ends it.
// When no channel is holding anything an event goes out at once with all its text.
//
// Fail closed: an event that cannot be parsed, masked or rewritten is an error, the masker stays
// failed, and the caller must end the answer (with the provider's error) rather than forward it.
// So is a delta on a channel that already ended (its stream was flushed, so text after the end could
// complete a secret the client joins across it), and an answer that names more channels, or asks
// for more flushed bytes, than the bounds below: the provider is untrusted input, and the work per
// event must stay proportional to the event.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "mask/text_masker.h"
#include "providers/provider_adapter.h"

namespace shadowai {

struct JsonStringReplacement;

class SseStreamMasker {
 public:
  // Channels one answer may name, open or ended (each one holds a TextStream, or its name while
  // ended). Real answers name a handful: one per choice or candidate, content block, tool call.
  static constexpr size_t kMaxChannels = 1024;
  // Flush events are copies of earlier events: the bytes they copy may exceed the bytes of the answer
  // so far by this much and no more, or one event feeding many channels could be repeated per channel.
  static constexpr size_t kFlushSlackBytes = 1 << 20;

  // Both must outlive the masker.
  SseStreamMasker(const ProviderAdapter& adapter, TextMasker& masker, size_t maxChannels = kMaxChannels)
      : adapter_(adapter), masker_(masker), maxChannels_(maxChannels) {}

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
  // An upstream event with the texts its adapter found, kept as the model for flushes. One per event,
  // shared by every channel whose last delta is in it, so an event feeding N channels costs one copy.
  struct DeltaEvent {
    SseEvent event;
    std::vector<TextSegment> segments;
  };

  struct Channel {
    std::unique_ptr<TextStream> stream;
    std::shared_ptr<const DeltaEvent> last;  // the channel's last delta event: the model for a flush
    size_t lastSegment = 0;                  // which of last->segments is the channel's last delta
    uint64_t lastEventNumber = 0;
    uint64_t openedAs = 0;  // flushes go out in the order channels opened
  };

  // Ordered by name, because an ended name ends a whole subtree ("choices/0" ends "choices/0/content"
  // and "choices/0/tool_calls/1"), which is a range of names.
  using Channels = std::map<std::string, Channel, std::less<>>;

  Result<std::vector<SseEvent>> process(const SseEvent& event);
  Result<Channel*> deltaChannel(const std::string& name);
  void takeEnded(const std::string& ended, std::vector<Channels::node_type>& into);
  Status endChannels(std::vector<Channels::node_type> ending, std::vector<JsonStringReplacement>* inThisEvent,
                     std::vector<SseEvent>& out);

  const ProviderAdapter& adapter_;
  TextMasker& masker_;
  size_t maxChannels_;
  Channels open_;
  std::unordered_set<std::string> ended_;  // channels that ended: a later delta on one is refused
  uint64_t eventNumber_ = 0;  // events seen, to tell whether a channel's last delta is in this one
  uint64_t channelsOpened_ = 0;
  uint64_t receivedBytes_ = 0;  // event data of the answer so far
  uint64_t flushedBytes_ = 0;   // event data copied into flush events so far
  bool failed_ = false;
};

}  // namespace shadowai
