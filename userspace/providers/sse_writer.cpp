#include "providers/sse_writer.h"

#include <string_view>

namespace shadowai {

namespace {

std::string_view endingText(SseLineEnding ending) {
  switch (ending) {
    case SseLineEnding::kCrLf: return "\r\n";
    case SseLineEnding::kCr: return "\r";
    case SseLineEnding::kLf: break;
  }
  return "\n";
}

void appendSingleLine(std::string& out, std::string_view value) {
  for (char c : value) out += (c == '\r' || c == '\n') ? ' ' : c;
}

void appendField(std::string& out, std::string_view name, std::string_view value, std::string_view eol) {
  out += name;
  out += ": ";
  appendSingleLine(out, value);
  out += eol;
}

}  // namespace

std::string serializeSseEvent(const SseEvent& event) {
  // A block of unknown fields only means nothing to any reader, and a lone blank line is not a block.
  if (!event.hasData && event.type.empty() && !event.id && !event.retry && event.comments.empty()) return {};
  std::string_view eol = endingText(event.lineEnding);
  std::string out;
  out.reserve(event.data.size() + event.type.size() + 32);
  for (const auto& comment : event.comments) {
    out += ':';
    appendSingleLine(out, comment);
    out += eol;
  }
  if (event.id) appendField(out, "id", *event.id, eol);
  if (!event.type.empty()) appendField(out, "event", event.type, eol);
  if (event.hasData) {
    std::string_view rest = event.data;
    while (true) {
      size_t lineEnd = rest.find_first_of("\r\n");
      out += "data: ";
      out += rest.substr(0, lineEnd);
      out += eol;
      if (lineEnd == std::string_view::npos) break;
      size_t skip = (rest[lineEnd] == '\r' && lineEnd + 1 < rest.size() && rest[lineEnd + 1] == '\n') ? 2 : 1;
      rest.remove_prefix(lineEnd + skip);
    }
  }
  if (event.retry) out += "retry: " + std::to_string(*event.retry) + std::string(eol);
  out += eol;
  return out;
}

}  // namespace shadowai
