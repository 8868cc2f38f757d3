#include "providers/unknown_api_adapter.h"

namespace shadowai {

Result<ParsedRequest> UnknownApiAdapter::parseRequest(std::string_view /*target*/, std::string_view /*body*/) const {
  ParsedRequest request;
  request.api = api();
  return request;
}

Result<ParsedResponseChunk> UnknownApiAdapter::parseResponse(std::string_view /*body*/) const {
  ParsedResponseChunk chunk;
  chunk.done = true;
  return chunk;
}

Result<ParsedResponseChunk> UnknownApiAdapter::parseStreamEvent(const SseEvent& /*event*/) const {
  return ParsedResponseChunk{};
}

}  // namespace shadowai
