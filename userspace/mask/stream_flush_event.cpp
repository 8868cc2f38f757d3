#include "mask/stream_flush_event.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace shadowai {

namespace {

using Json = nlohmann::json;

Error flushError() { return makeError("stream event: cannot build the event for held text"); }

std::vector<std::string> tokensOf(Json::json_pointer pointer) {
  std::vector<std::string> tokens;
  for (; !pointer.empty(); pointer = pointer.parent_pointer()) tokens.push_back(pointer.back());
  std::reverse(tokens.begin(), tokens.end());
  return tokens;
}

// Keeps, in every array on the way to `at`, only the element that leads there.
Status pruneToPath(Json& root, const Json::json_pointer& at) {
  Json* node = &root;
  for (const auto& token : tokensOf(at)) {
    if (node->is_array()) {
      size_t index = 0;
      auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), index);
      if (error != std::errc() || end != token.data() + token.size() || index >= node->size()) return flushError();
      Json kept = std::move((*node)[index]);
      *node = Json::array();
      node->push_back(std::move(kept));
      node = &(*node)[0];
    } else if (node->is_object() && node->contains(token)) {
      node = &(*node)[token];
    } else {
      return flushError();
    }
  }
  return {};
}

}  // namespace

Result<SseEvent> streamFlushEvent(const SseEvent& model, const std::vector<TextSegment>& segments, size_t keep,
                                  const std::string& text) {
  if (keep >= segments.size()) return flushError();
  try {
    Json data = Json::parse(model.data);
    for (size_t i = 0; i < segments.size(); ++i) {
      Json& value = data.at(segments[i].location);
      if (!value.is_string()) return flushError();
      value = i == keep ? text : std::string();
    }
    if (auto status = pruneToPath(data, segments[keep].location); !status) return status.error();
    SseEvent flush = model;
    flush.comments.clear();
    flush.data = data.dump(-1, ' ', false, Json::error_handler_t::strict);
    flush.hasData = true;
    return flush;
  } catch (const Json::exception&) {
    return flushError();
  }
}

}  // namespace shadowai
