#include "providers/sse_parser.h"

#include <limits>

namespace shadowai {

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::optional<uint64_t> parseRetry(std::string_view value) {
  if (value.empty()) return std::nullopt;
  uint64_t result = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (result > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    result = result * 10 + digit;
  }
  return result;
}

}  // namespace

Status SseParser::chargeBytes(size_t count) {
  blockBytes_ += count;
  if (blockBytes_ > maxEventBytes_) {
    failure_ = makeError("server-sent event larger than " + std::to_string(maxEventBytes_) + " bytes");
    return *failure_;
  }
  return {};
}

void SseParser::processLine(std::string_view line, SseLineEnding ending, std::vector<SseEvent>& out) {
  if (line.empty()) {
    if (started_) {
      current_.lineEnding = ending;
      out.push_back(std::move(current_));
    }
    current_ = SseEvent{};
    started_ = false;
    blockBytes_ = 0;
    return;
  }
  started_ = true;
  if (line.front() == ':') {
    current_.comments.emplace_back(line.substr(1));
    return;
  }
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);

  if (field == "event") {
    current_.type = value;
  } else if (field == "data") {
    if (current_.hasData) current_.data += '\n';
    current_.data += value;
    current_.hasData = true;
  } else if (field == "id") {
    // WHATWG: an id holding NUL is ignored, since it could never be sent back in Last-Event-ID.
    if (value.find('\0') == std::string_view::npos) current_.id = std::string(value);
  } else if (field == "retry") {
    if (auto retry = parseRetry(value)) current_.retry = retry;
  }
  // Any other field name is ignored, as the rules say.
}

Result<std::vector<SseEvent>> SseParser::feed(std::string_view bytes) {
  if (failure_) return *failure_;
  std::vector<SseEvent> out;

  // A BOM may only open the stream, and may itself arrive cut in pieces.
  std::string withBomPrefix;
  if (!bomDone_) {
    while (!bytes.empty() && bomMatched_ < kUtf8Bom.size() && bytes.front() == kUtf8Bom[bomMatched_]) {
      bytes.remove_prefix(1);
      ++bomMatched_;
    }
    if (bomMatched_ == kUtf8Bom.size()) {
      bomDone_ = true;
    } else if (!bytes.empty()) {
      // Not a BOM after all: the bytes held back are ordinary content.
      bomDone_ = true;
      withBomPrefix = std::string(kUtf8Bom.substr(0, bomMatched_)) + std::string(bytes);
      bytes = withBomPrefix;
    }
  }

  size_t pos = 0;
  while (pos < bytes.size()) {
    if (afterCr_) {
      afterCr_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    size_t end = bytes.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) {
      if (auto charged = chargeBytes(bytes.size() - pos); !charged) return charged.error();
      line_.append(bytes.substr(pos));
      break;
    }
    if (auto charged = chargeBytes(end - pos + 1); !charged) return charged.error();

    SseLineEnding ending = SseLineEnding::kLf;
    size_t next = end + 1;
    if (bytes[end] == '\r') {
      if (next < bytes.size()) {
        ending = bytes[next] == '\n' ? SseLineEnding::kCrLf : SseLineEnding::kCr;
        if (ending == SseLineEnding::kCrLf) ++next;
      } else {
        // The '\n' of a CRLF may be in the next read. Dispatching now rather than waiting keeps
        // streamed events prompt; the ending is guessed from what this stream used before.
        afterCr_ = true;
        ending = lastEnding_ == SseLineEnding::kCr ? SseLineEnding::kCr : SseLineEnding::kCrLf;
      }
    }
    if (!afterCr_) lastEnding_ = ending;

    if (line_.empty()) {
      processLine(bytes.substr(pos, end - pos), ending, out);
    } else {
      line_.append(bytes.substr(pos, end - pos));
      processLine(line_, ending, out);
      line_.clear();
    }
    pos = next;
  }
  return out;
}

Result<std::optional<SseEvent>> SseParser::finish() {
  if (failure_) return *failure_;
  std::vector<SseEvent> ignored;
  if (!bomDone_) line_ = std::string(kUtf8Bom.substr(0, bomMatched_));  // a lone BOM prefix is content
  if (!line_.empty()) processLine(line_, lastEnding_, ignored);
  std::optional<SseEvent> incomplete;
  if (started_) {
    current_.lineEnding = lastEnding_;
    incomplete = std::move(current_);
  }
  SseParser fresh(maxEventBytes_);
  *this = std::move(fresh);
  return incomplete;
}

}  // namespace shadowai
