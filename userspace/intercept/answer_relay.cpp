#include "intercept/answer_relay.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <array>

#include "intercept/http_headers.h"
#include "mask/call_masker.h"
#include "mask/json_splice.h"
#include "mask/json_strings_masker.h"
#include "mask/sse_stream_masker.h"
#include "providers/sse_parser.h"
#include "providers/sse_writer.h"

namespace shadowai {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kRelayChunkBytes = 16 << 10;
// A whole (non-streamed) answer is parsed for its usage when it is at most this big; a bigger one
// is still relayed, only its usage is not recorded.
constexpr size_t kMaxParsedResponseBytes = 4 << 20;
// A whole answer to be masked is held until complete; one bigger than this is refused (answers of
// chat APIs are far smaller; this bounds the memory one call can take).
constexpr size_t kMaxMaskedResponseBytes = 16 << 20;

}  // namespace

asio::awaitable<bool> BodyWriter::header() {
  auto [error, written] = co_await http::async_write_header(client_, serializer_, kAwaitTuple);
  co_return !error;
}

asio::awaitable<bool> BodyWriter::piece(const void* data, size_t size) {
  if (size == 0) co_return true;
  response_.body().data = const_cast<void*>(data);
  response_.body().size = size;
  response_.body().more = true;
  auto [error, written] = co_await http::async_write(client_, serializer_, kAwaitTuple);
  co_return !error || error == http::error::need_buffer;
}

asio::awaitable<bool> BodyWriter::finish() {
  response_.body().data = nullptr;
  response_.body().size = 0;
  response_.body().more = false;
  auto [error, written] = co_await http::async_write(client_, serializer_, kAwaitTuple);
  co_return !error;
}

void BodyWriter::setContentLength(size_t size) {
  response_.chunked(false);
  response_.content_length(size);
}

void mergeUsage(std::optional<Usage>& total, const std::optional<Usage>& seen) {
  if (!seen) return;
  if (!total) total = Usage{};
  if (seen->inputTokens) total->inputTokens = seen->inputTokens;
  if (seen->outputTokens) total->outputTokens = seen->outputTokens;
}

namespace {

// Writes EVENT; false when the client went away.
asio::awaitable<bool> writeEvent(BodyWriter& writer, const SseEvent& event, InterceptedCall& call) {
  const std::string wire = serializeSseEvent(event);
  if (!(co_await writer.piece(wire.data(), wire.size()))) co_return false;
  ++call.streamedEvents;
  co_return true;
}

asio::awaitable<bool> writeEvents(BodyWriter& writer, const std::vector<SseEvent>& events, InterceptedCall& call) {
  for (const SseEvent& event : events) {
    if (!(co_await writeEvent(writer, event, call))) co_return false;
  }
  co_return true;
}

// Relays an event stream event by event, through STREAM_MASKER when there is one.
class EventRelay {
 public:
  EventRelay(const ProviderAdapter& adapter, TextMasker* masker, BodyWriter& writer, InterceptedCall& call)
      : adapter_(adapter), writer_(writer), call_(call) {
    if (masker) masker_.emplace(adapter, *masker);
  }

  // Events of BYTES; false when the relay must stop (RESULT says why).
  asio::awaitable<bool> feed(std::string_view bytes, RelayResult& result) {
    if (broken_) {
      if (!(co_await writer_.piece(bytes.data(), bytes.size()))) co_return stop(result);
      co_return true;
    }
    auto parsed = parser_.feed(bytes);
    if (!parsed) {
      if (masker_) {
        result.maskingFailure = "the answer's event stream could not be parsed to be masked (" +
                                parsed.error().describe() + "); it was cut";
        co_return false;
      }
      // Without masking, forward what we have as it came.
      broken_ = true;
      if (!(co_await writer_.piece(bytes.data(), bytes.size()))) co_return stop(result);
      co_return true;
    }
    for (const SseEvent& event : *parsed) {
      if (!(co_await relay(event, result))) co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> finish(RelayResult& result) {
    if (broken_) co_return true;
    if (auto last = parser_.finish(); last && *last) {
      if (!(co_await relay(**last, result))) co_return false;
    }
    if (masker_) {
      auto flushed = masker_->finish();
      if (!flushed) co_return maskingFailed(flushed.error(), result);
      if (!(co_await writeEvents(writer_, *flushed, call_))) co_return stop(result);
    }
    co_return true;
  }

 private:
  asio::awaitable<bool> relay(const SseEvent& event, RelayResult& result) {
    if (event.hasData) {
      if (auto chunk = adapter_.parseStreamEvent(event)) mergeUsage(call_.usage, chunk->usage);
    }
    if (!masker_) {
      if (!(co_await writeEvent(writer_, event, call_))) co_return stop(result);
      co_return true;
    }
    auto masked = masker_->onEvent(event);
    if (!masked) co_return maskingFailed(masked.error(), result);
    if (!(co_await writeEvents(writer_, *masked, call_))) co_return stop(result);
    co_return true;
  }

  static bool stop(RelayResult& result) {
    result.clientOk = false;
    return false;
  }
  static bool maskingFailed(const Error& error, RelayResult& result) {
    result.maskingFailure = "an event of the answer could not be masked (" + error.describe() + "); the stream was cut";
    return false;
  }

  const ProviderAdapter& adapter_;
  BodyWriter& writer_;
  InterceptedCall& call_;
  SseParser parser_;
  std::optional<SseStreamMasker> masker_;
  bool broken_ = false;  // a block over the parser's limit, unmasked: the rest goes through raw
};

// The masked version of a whole answer, or why it cannot be masked.
Result<std::string> maskWholeAnswer(const ProviderAdapter& adapter, std::string_view contentType,
                                    const std::string& body, TextMasker& masker) {
  auto masked = maskResponseBody(adapter, body, masker, body.capacity());
  if (masked) return *masked ? std::move(**masked) : body;
  // Not an answer the adapter knows (a provider error, another API): every JSON string in it is
  // masked, or, for other text, the text itself.
  auto anyJson = maskJsonStrings(body, masker, MaskSite::kResponse);
  if (anyJson) return *anyJson ? std::move(**anyJson) : body;
  if (isTextual(contentType)) return masker.mask(body, MaskSite::kResponse);
  return makeError("the answer is neither JSON nor text (" + std::string(contentType) + ")");
}

}  // namespace

asio::awaitable<RelayResult> relayAnswer(UpstreamConnection& upstream, http::response_parser<http::buffer_body>& parser,
                                         BodyWriter& writer, bool eventStream, const ProviderAdapter& adapter,
                                         const CallScope& scope, InterceptedCall& call) {
  RelayResult result;
  std::array<char, kRelayChunkBytes> buffer;
  TextMasker* masker = scope.responseMasker;
  const bool holdWhole = masker && !eventStream;  // masked once complete
  EventRelay events(adapter, masker, writer, call);
  std::string whole;  // a non-streamed answer, for its usage (and its masking)
  bool wholeTooBig = false;
  BodyBudget* budget = scope.services.bodyBudget;
  BodyBudget::Lease wholeLease = budget ? budget->lease() : BodyBudget::Lease();
  auto& tcp = beast::get_lowest_layer(upstream.stream);

  while (!parser.is_done()) {
    parser.get().body().data = buffer.data();
    parser.get().body().size = buffer.size();
    tcp.expires_after(scope.services.settings.responseTimeout);
    auto [error, ignored] = co_await http::async_read_some(upstream.stream, upstream.buffer, parser, kAwaitTuple);
    if (error == http::error::need_buffer) error = {};
    const size_t got = buffer.size() - parser.get().body().size;
    if (error) {
      result.upstream = classifyUpstreamError(upstream.key, error, "finish its answer",
                                              scope.services.settings.responseTimeout);
      co_return result;
    }
    if (got == 0) continue;
    call.responseBytes += got;
    const std::string_view bytes(buffer.data(), got);
    if (eventStream) {
      if (!(co_await events.feed(bytes, result))) co_return result;
      continue;
    }
    if (!wholeTooBig) {
      const size_t limit = holdWhole ? kMaxMaskedResponseBytes : kMaxParsedResponseBytes;
      const bool fits = whole.size() + got <= limit;
      if (fits && wholeLease.holdBody(whole.size() + got)) {
        whole.append(bytes);
      } else if (holdWhole) {
        result.maskingFailure = fits ? "shadowai holds as much data as its memory budget allows "
                                       "(intercept.max_buffered_bytes, " + std::to_string(budget->limit()) +
                                       " bytes) and cannot hold this answer to mask it"
                                     : "the answer is larger than " + std::to_string(kMaxMaskedResponseBytes) +
                                       " bytes, the most shadowai holds to mask";
        co_return result;
      } else {
        // Relayed as it comes; only its usage goes unrecorded.
        wholeTooBig = true;
        std::string().swap(whole);
        wholeLease.release();
      }
    }
    if (!holdWhole && !(co_await writer.piece(bytes.data(), bytes.size()))) co_return RelayResult{false, {}, {}};
  }
  if (eventStream) {
    if (!(co_await events.finish(result))) co_return result;
  } else if (!wholeTooBig && !whole.empty()) {
    if (auto parsed = adapter.parseResponse(whole)) mergeUsage(call.usage, parsed->usage);
    if (holdWhole) {
      reserveJsonPadding(whole);  // read where it is by the masker (json_splice.h)
      const std::string contentType(parser.get()[http::field::content_type]);
      auto masked = maskWholeAnswer(adapter, contentType, whole, *masker);
      if (!masked) {
        result.maskingFailure = "the answer could not be masked: " + masked.error().describe();
        co_return result;
      }
      writer.setContentLength(masked->size());
      if (!(co_await writer.piece(masked->data(), masked->size()))) co_return RelayResult{false, {}, {}};
    }
  } else if (holdWhole) {
    writer.setContentLength(0);
  }
  result.clientOk = co_await writer.finish();
  co_return result;
}

}  // namespace shadowai
