// The provider's answer, from its header to the client: relayed piece by piece as it arrives (an event
// stream event by event), or, when the policy masks answers, masked first: each streamed event's
// text as it passes (with the bounded hold-back of values split across events), a whole body once it
// is complete. An answer that cannot be masked is never relayed unmasked: a whole body is refused
// before any byte goes out, a stream is cut.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <optional>
#include <string>

#include "intercept/call_forwarding.h"
#include "intercept/upstream_connection.h"
#include "intercept/upstream_error.h"

namespace shadowai {

// Writes a buffer_body response's body piece by piece through one serializer.
class BodyWriter {
 public:
  BodyWriter(ClientStream& client, boost::beast::http::response<boost::beast::http::buffer_body>& response,
             boost::beast::http::response_serializer<boost::beast::http::buffer_body>& serializer)
      : client_(client), response_(response), serializer_(serializer) {}

  boost::asio::awaitable<bool> header();
  boost::asio::awaitable<bool> piece(const void* data, size_t size);
  boost::asio::awaitable<bool> finish();
  // Before anything is written: the body will be exactly SIZE bytes (a masked body's new length).
  void setContentLength(size_t size);

 private:
  ClientStream& client_;
  boost::beast::http::response<boost::beast::http::buffer_body>& response_;
  boost::beast::http::response_serializer<boost::beast::http::buffer_body>& serializer_;
};

struct RelayResult {
  bool clientOk = true;                   // the client got the whole answer
  std::optional<UpstreamError> upstream;  // the provider's side failed mid-answer
  // The answer could not be masked: why. Nothing was written when the answer is not a stream (the
  // caller refuses the call); a stream was cut where masking failed.
  std::string maskingFailure;
};

// Relays the body after the header PARSER has read, to the client through WRITER, filling CALL's
// response bytes, streamed events and usage.
boost::asio::awaitable<RelayResult> relayAnswer(
    UpstreamConnection& upstream, boost::beast::http::response_parser<boost::beast::http::buffer_body>& parser,
    BodyWriter& writer, bool eventStream, const ProviderAdapter& adapter, const CallScope& scope,
    InterceptedCall& call);

void mergeUsage(std::optional<Usage>& total, const std::optional<Usage>& seen);

}  // namespace shadowai
