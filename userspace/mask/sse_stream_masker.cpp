#include "mask/sse_stream_masker.h"

#include <algorithm>

#include "mask/json_splice.h"
#include "mask/stream_flush_event.h"
#include "providers/json_text.h"

namespace shadowai {

namespace {

bool endsChannel(const ParsedResponseChunk& chunk, const std::string& channel) {
  return std::any_of(chunk.endedChannels.begin(), chunk.endedChannels.end(),
                     [&](const std::string& ended) { return channelEndedBy(channel, ended); });
}

}  // namespace

Result<std::vector<SseEvent>> SseStreamMasker::onEvent(const SseEvent& event) {
  if (failed_) return makeError("stream event: the stream already failed to mask");
  auto out = process(event);
  if (!out) failed_ = true;
  return out;
}

bool SseStreamMasker::holding() const {
  return std::any_of(channels_.begin(), channels_.end(), [](const Channel& channel) { return channel.stream->holding(); });
}

SseStreamMasker::Channel& SseStreamMasker::channelNamed(const std::string& name) {
  for (auto& channel : channels_) {
    if (channel.name == name) return channel;
  }
  channels_.push_back(Channel{name, masker_.openStream(MaskSite::kResponse), {}, {}, 0, 0});
  return channels_.back();
}

Result<std::vector<SseEvent>> SseStreamMasker::process(const SseEvent& event) {
  ++eventNumber_;
  auto chunk = adapter_.parseStreamEvent(event);
  if (!chunk) return chunk.error();
  std::vector<SseEvent> out;
  if (chunk->generated.empty() && chunk->endedChannels.empty()) {
    out.push_back(event);
    return out;
  }

  // This event's texts: whole ones masked at once, deltas through their channel's stream.
  const auto& segments = chunk->generated;
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
    Channel& channel = channelNamed(segment.channel);
    auto released = channel.stream->feed(segment.text);
    if (!released) return released.error();
    replacements.push_back(JsonStringReplacement{segment.location, segment.text, std::move(*released)});
    channel.lastEvent = event;
    channel.lastSegments = segments;
    channel.lastSegment = i;
    channel.lastEventNumber = eventNumber_;
  }

  // Channels this event ends give up what they hold: inside this event when it carries one of their
  // deltas, else in a flush event sent before it.
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (!endsChannel(*chunk, it->name)) {
      ++it;
      continue;
    }
    auto held = it->stream->finish();
    if (!held) return held.error();
    if (!held->empty()) {
      if (it->lastEventNumber == eventNumber_) {
        replacements[it->lastSegment].replacement += *held;
      } else {
        auto flush = streamFlushEvent(it->lastEvent, it->lastSegments, it->lastSegment, *held);
        if (!flush) return flush.error();
        out.push_back(std::move(*flush));
      }
    }
    it = channels_.erase(it);
  }

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
  for (auto& channel : channels_) {
    auto held = channel.stream->finish();
    if (!held) {
      failed_ = true;
      return held.error();
    }
    if (held->empty()) continue;
    auto flush = streamFlushEvent(channel.lastEvent, channel.lastSegments, channel.lastSegment, *held);
    if (!flush) {
      failed_ = true;
      return flush.error();
    }
    out.push_back(std::move(*flush));
  }
  channels_.clear();
  return out;
}

}  // namespace shadowai
