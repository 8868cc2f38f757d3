#include "mask/sse_stream_masker.h"

#include <algorithm>

#include "mask/json_splice.h"
#include "mask/stream_flush_event.h"
#include "providers/json_text.h"

namespace shadowai {

Result<std::vector<SseEvent>> SseStreamMasker::onEvent(const SseEvent& event) {
  if (failed_) return makeError("stream event: the stream already failed to mask");
  auto out = process(event);
  if (!out) failed_ = true;
  return out;
}

bool SseStreamMasker::holding() const {
  return std::any_of(open_.begin(), open_.end(), [](const auto& entry) { return entry.second.stream->holding(); });
}

// The open channel NAME, or a new one; nullptr when NAME already ended.
Result<SseStreamMasker::Channel*> SseStreamMasker::deltaChannel(const std::string& name) {
  if (auto it = open_.find(name); it != open_.end()) return &it->second;
  if (ended_.contains(name)) return nullptr;
  if (open_.size() + ended_.size() >= maxChannels_) {
    return makeError("stream event: the answer names more than " + std::to_string(maxChannels_) + " text channels");
  }
  Channel channel{masker_.openStream(MaskSite::kResponse), nullptr, 0, 0, channelsOpened_++};
  return &open_.emplace(name, std::move(channel)).first->second;
}

// Moves the open channels ENDED ends (see channelEndedBy) into INTO: the channel of that name and the
// names below it, "ENDED/...", which sort between "ENDED/" and "ENDED0" ('0' follows '/').
void SseStreamMasker::takeEnded(const std::string& ended, std::vector<Channels::node_type>& into) {
  if (ended.empty()) {
    while (!open_.empty()) into.push_back(open_.extract(open_.begin()));
    return;
  }
  if (auto node = open_.extract(ended)) into.push_back(std::move(node));
  auto it = open_.lower_bound(ended + '/');
  auto last = open_.lower_bound(ended + static_cast<char>('/' + 1));
  while (it != last) into.push_back(open_.extract(it++));
}

// The ENDING channels give up what they hold: inside this event when it carries their last delta
// (IN_THIS_EVENT is its replacements, one per segment), else in a flush event appended to OUT.
Status SseStreamMasker::endChannels(std::vector<Channels::node_type> ending,
                                    std::vector<JsonStringReplacement>* inThisEvent, std::vector<SseEvent>& out) {
  std::sort(ending.begin(), ending.end(),
            [](const auto& a, const auto& b) { return a.mapped().openedAs < b.mapped().openedAs; });
  for (auto& node : ending) {
    const Channel& channel = node.mapped();
    auto held = channel.stream->finish();
    if (!held) return held.error();
    if (!held->empty()) {
      if (inThisEvent && channel.lastEventNumber == eventNumber_) {
        (*inThisEvent)[channel.lastSegment].replacement += *held;
      } else {
        flushedBytes_ += channel.last->event.data.size();
        if (flushedBytes_ > receivedBytes_ + kFlushSlackBytes) {
          return makeError("stream event: the answer's ended channels need more flushed bytes than it carried");
        }
        auto flush = streamFlushEvent(channel.last->event, channel.last->segments, channel.lastSegment, *held);
        if (!flush) return flush.error();
        out.push_back(std::move(*flush));
      }
    }
    ended_.insert(std::move(node.key()));
  }
  return {};
}

Result<std::vector<SseEvent>> SseStreamMasker::process(const SseEvent& event) {
  ++eventNumber_;
  receivedBytes_ += event.data.size();
  auto chunk = adapter_.parseStreamEvent(event);
  if (!chunk) return chunk.error();
  std::vector<SseEvent> out;
  if (chunk->generated.empty() && chunk->endedChannels.empty()) {
    out.push_back(event);
    return out;
  }

  // The one copy of this event that channels keep, when some text in it is a delta.
  std::shared_ptr<const DeltaEvent> record;
  if (std::any_of(chunk->generated.begin(), chunk->generated.end(),
                  [](const TextSegment& segment) { return !segment.channel.empty(); })) {
    record = std::make_shared<const DeltaEvent>(DeltaEvent{event, std::move(chunk->generated)});
  }
  const auto& segments = record ? record->segments : chunk->generated;

  // This event's texts: whole ones masked at once, deltas through their channel's stream.
  std::vector<JsonStringReplacement> replacements;
  replacements.reserve(segments.size());
  for (size_t i = 0; i < segments.size(); ++i) {
    const TextSegment& segment = segments[i];
    if (segment.channel.empty()) {
      auto masked = masker_.mask(segment.text, MaskSite::kResponse);
      if (!masked) return masked.error();
      replacements.push_back(JsonStringReplacement{segment.location, segment.text, std::move(*masked)});
      continue;
    }
    auto channel = deltaChannel(segment.channel);
    if (!channel) return channel.error();
    if (!*channel) {
      // The channel ended and its held text went out: the client would join this text to it.
      // An empty delta joins nothing (some servers repeat an empty one after the end).
      if (!segment.text.empty()) {
        return makeError("stream event: a delta for the text channel " + segment.channel + " after it ended");
      }
      replacements.push_back(JsonStringReplacement{segment.location, segment.text, segment.text});
      continue;
    }
    auto released = (*channel)->stream->feed(segment.text);
    if (!released) return released.error();
    replacements.push_back(JsonStringReplacement{segment.location, segment.text, std::move(*released)});
    (*channel)->last = record;
    (*channel)->lastSegment = i;
    (*channel)->lastEventNumber = eventNumber_;
  }

  // Only the channels this event names as ended are visited: the work follows the event, not the
  // number of channels open.
  std::vector<Channels::node_type> ending;
  for (const auto& ended : chunk->endedChannels) takeEnded(ended, ending);
  if (auto status = endChannels(std::move(ending), &replacements, out); !status) return status.error();

  SseEvent masked = event;
  if (!replacements.empty()) {
    auto rewritten = rewriteJsonStrings(event.data, replacements, kStreamEvent);
    if (!rewritten) return rewritten.error();
    if (*rewritten) masked.data = std::move(**rewritten);
  }
  out.push_back(std::move(masked));
  return out;
}

Result<std::vector<SseEvent>> SseStreamMasker::finish() {
  if (failed_) return makeError("stream event: the stream already failed to mask");
  std::vector<SseEvent> out;
  std::vector<Channels::node_type> ending;
  takeEnded("", ending);
  if (auto status = endChannels(std::move(ending), nullptr, out); !status) {
    failed_ = true;
    return status.error();
  }
  return out;
}

}  // namespace shadowai
