#include "intercept/intercept_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/algorithm/string/predicate.hpp>
#include <openssl/err.h>

#include "common/json_nesting.h"
#include "intercept/call_forwarding.h"
#include "intercept/call_governance.h"
#include "intercept/client_stream.h"
#include "intercept/http_headers.h"
#include "intercept/refusal_response.h"
#include "mask/json_splice.h"
#include "net/request_target.h"
#include "providers/json_text.h"
#include "providers/provider_adapter.h"
#include "proxy/proxy_sockets.h"

namespace shadowai {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kCloseNotifyWait{2};
constexpr size_t kClientReadBytes = 8 << 10;

void record(const InterceptServices& services, const InterceptedCall& call) {
  if (!services.onCall) return;
  try {
    services.onCall(call);
  } catch (...) {
    // The sink is documented not to throw; a call record is not worth a connection.
  }
}

std::string handshakeFailure(const boost::system::error_code& error) {
  if (error == beast::error::timeout) return "the client did not complete the TLS handshake in time";
  if (error == asio::error::eof || error == asio::error::connection_reset || error == asio::ssl::error::stream_truncated) {
    return "the client closed the connection during the TLS handshake (does it trust shadowai's CA?)";
  }
  // OpenSSL's reason: "tlsv1 alert unknown ca" when the client does not trust our CA.
  return "the client ended the TLS handshake: " + error.message();
}

// After refusing a request it did not read whole (too large, malformed), the proxy closes the
// connection; the client may still be sending the rest of its body. Closing with unread data makes
// the kernel send a reset, which can destroy the refusal in the client's receive buffer before the
// client has read it (curl then reports a send error instead of the 413). So, as HTTP servers do
// (nginx's lingering close), read and discard what the client still sends until it stops, for at
// most kLingerTime and kLingerBytes, before closing.
constexpr std::chrono::seconds kLingerTime{3};
constexpr size_t kLingerBytes = 64 << 20;

asio::awaitable<void> discardUntilClientStops(ClientStream& client, beast::flat_buffer& buffer) {
  buffer.consume(buffer.size());
  clientTcp(client).expires_after(kLingerTime);
  size_t discarded = 0;
  while (discarded < kLingerBytes) {
    auto [error, got] = co_await client.async_read_some(buffer.prepare(kClientReadBytes), kAwaitTuple);
    if (error) break;  // the client closed, reset, or the linger time is over
    discarded += got;
  }
}

struct RequestRead {
  enum class Kind { kComplete, kClosed, kTooLarge, kHeaderTooLarge, kMalformed, kOverBudget } kind = Kind::kClosed;
  http::request<http::string_body> request;
};

// Reads one whole request (answering `Expect: 100-continue`); PARSER keeps the header of a request
// refused for its size, for the adapter's error shape. A header whose framing cannot be trusted is
// kMalformed with PROBLEM saying why, before any of its body is read. LEASE grows with the body: a
// Content-Length is reserved before the first byte is read (kOverBudget at once), a chunked body as
// it arrives.
asio::awaitable<RequestRead::Kind> readRequest(ClientStream& client, beast::flat_buffer& buffer,
                                               http::request_parser<http::string_body>& parser,
                                               const InterceptSettings& settings, std::string& problem,
                                               BodyBudget::Lease& lease) {
  using Kind = RequestRead::Kind;
  auto classify = [](const boost::system::error_code& error) {
    if (error == http::error::body_limit) return Kind::kTooLarge;
    if (error == http::error::header_limit) return Kind::kHeaderTooLarge;
    if (error.category() == http::make_error_code(http::error::bad_method).category() &&
        error != http::error::end_of_stream && error != http::error::partial_message) {
      return Kind::kMalformed;
    }
    return Kind::kClosed;  // end of stream, reset, idle timeout: nothing to answer
  };
  clientTcp(client).expires_after(settings.idleTimeout);
  auto [headerError, headerBytes] = co_await http::async_read_header(client, buffer, parser, kAwaitTuple);
  if (headerError) co_return classify(headerError);
  problem = requestFramingProblem(parser.get().base(), parser.get().version());
  if (!problem.empty()) co_return Kind::kMalformed;
  if (const auto length = parser.content_length(); length && *length <= settings.maxRequestBodyBytes) {
    if (!lease.holdBody(*length)) co_return Kind::kOverBudget;
  }
  if (boost::algorithm::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> proceed{http::status::continue_, 11};
    auto [error, written] = co_await http::async_write(client, proceed, kAwaitTuple);
    if (error) co_return Kind::kClosed;
  }
  clientTcp(client).expires_after(settings.idleTimeout);
  while (!parser.is_done()) {
    auto [bodyError, bodyBytes] = co_await http::async_read_some(client, buffer, parser, kAwaitTuple);
    if (bodyError) co_return classify(bodyError);
    if (!lease.holdBody(parser.get().body().size())) co_return Kind::kOverBudget;
  }
  co_return Kind::kComplete;
}

asio::awaitable<void> serveRequests(ClientStream& client, const InterceptHandoff& handoff,
                                    const InterceptServices& services, UpstreamPool& pool, ProxyCounterCells& counters,
                                    std::optional<asio::ip::tcp::socket>& earlyUpstream) {
  const InterceptTarget& target = *handoff.target;
  const InterceptSettings& settings = services.settings;
  beast::flat_buffer buffer;
  buffer.reserve(kClientReadBytes);  // else Beast reads a request 512 bytes at a time
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(settings.maxRequestHeaderBytes));
    parser.body_limit(settings.maxRequestBodyBytes);
    std::string framingProblem;
    BodyBudget::Lease lease = services.bodyBudget ? services.bodyBudget->lease() : BodyBudget::Lease();
    const RequestRead::Kind read = co_await readRequest(client, buffer, parser, settings, framingProblem, lease);
    if (read == RequestRead::Kind::kClosed) co_return;

    const auto& header = parser.get();
    InterceptedCall call;
    call.target = handoff.target;
    call.method = std::string(header.method_string());
    call.path = std::string(requestPath(header.target()));
    auto adapter = adapterFor(target.apiFamily, target.host, header.method_string(), header.target());
    call.api = adapter->api();

    if (read != RequestRead::Kind::kComplete) {
      // The stream cannot be resynchronised after a request we did not read whole: answer and close.
      unsigned status = 400;
      if (read == RequestRead::Kind::kTooLarge) {
        status = 413;
        call.reason = "the request body is larger than the limit of " + std::to_string(settings.maxRequestBodyBytes) +
                      " bytes";
      } else if (read == RequestRead::Kind::kOverBudget) {
        // 503: the provider's own word for "busy, retry later", which the SDKs retry with backoff.
        status = 503;
        call.reason = "shadowai holds as much request data as its memory budget allows (intercept.max_buffered_bytes, " +
                      std::to_string(services.bodyBudget->limit()) + " bytes); retry later";
      } else if (read == RequestRead::Kind::kHeaderTooLarge) {
        status = 431;
        call.reason = "the request header is larger than the limit of " +
                      std::to_string(settings.maxRequestHeaderBytes) + " bytes";
      } else {
        call.reason = framingProblem.empty() ? "the request is not valid HTTP/1.1" : framingProblem;
      }
      call.outcome = CallOutcome::kRefused;
      call.status = status;
      const bool written = co_await writeRefusal(client, *adapter, status, call.reason, false);
      record(services, call);
      if (written) co_await discardUntilClientStops(client, buffer);
      co_return;
    }

    http::request<http::string_body> request = parser.release();
    // Spare capacity lets the masker read the body where it is rather than copy it (json_splice.h).
    reserveJsonPadding(request.body());
    const bool keepAlive = request.keep_alive();
    call.requestBytes = request.body().size();
    // 421 Misdirected Request: this connection cannot serve that host. 400 for a target that is not
    // a valid path and query, and for a body of an API we read that nests deeper than any reader of
    // it may go (whatever the policy, neither is ever forwarded).
    unsigned refusedStatus = 0;
    if (std::string misdirected = misdirectionOf(request.base(), request.target(), target.host); !misdirected.empty()) {
      refusedStatus = 421;
      call.reason = std::move(misdirected);
    } else if (!parseRequestTarget(request.target())) {
      // A target the provider could split differently (net/request_target.h): never forwarded.
      refusedStatus = 400;
      call.reason = "the request target is not a valid path and query (RFC 3986)";
    } else if (adapter->api() != ApiKind::kUnknown && jsonNestsDeeperThan(request.body())) {
      refusedStatus = 400;
      call.reason = jsonTooDeepMessage(kRequestBody);
    }
    if (refusedStatus != 0) {
      // Nothing goes upstream.
      call.outcome = CallOutcome::kRefused;
      call.status = refusedStatus;
      const bool written = co_await writeRefusal(client, *adapter, refusedStatus, call.reason, keepAlive);
      record(services, call);
      if (!written || !keepAlive) co_return;
      continue;
    }
    Result<ParsedRequest> parsed = adapter->parseRequest(request.target(), request.body());
    if (parsed) {
      call.model = parsed->model;
      call.streaming = parsed->streaming;
    }
    const RequestGovernance governance = governRequest(services, target, *adapter, request, parsed, call);
    if (governance.refused) {
      // The provider never sees a refused call.
      const bool written = co_await writeRefusal(client, *adapter, governance.status, governance.message, keepAlive);
      record(services, call);
      if (!written || !keepAlive) co_return;
      continue;
    }
    // The prompt's texts are not needed while the provider answers, and of the body's share of the
    // budget only the body itself is still held.
    if (parsed) std::vector<TextSegment>().swap(parsed->prompt);
    lease.keepOnly(request.body().size());
    CallScope scope{target, handoff.facts, services, pool, counters, &earlyUpstream};
    if (governance.masksResponse) scope.responseMasker = governance.session.get();
    const bool again = co_await forwardCall(client, std::move(request), keepAlive, *adapter, scope, call);
    if (governance.session) call.masked = governance.session->hits();
    record(services, call);
    if (!again) co_return;
  }
}

asio::awaitable<void> runSession(InterceptHandoff handoff, const InterceptServices& services, UpstreamPool& pool,
                                 ProxyCounterCells& counters) {
  ClientStream client(PrefixedStream(beast::tcp_stream(std::move(handoff.client)), std::move(handoff.clientHello)),
                      *services.clientTls);
  // Used by the first call that needs a new upstream connection; reset if none does.
  std::optional<asio::ip::tcp::socket> earlyUpstream = std::move(handoff.earlyUpstream);
  struct ResetUnused {
    std::optional<asio::ip::tcp::socket>& socket;
    ~ResetUnused() {
      if (socket) resetAndClose(*socket);
    }
  } resetUnused{earlyUpstream};
  auto failHandshake = [&](std::string reason) {
    InterceptedCall call;
    call.target = handoff.target;
    call.outcome = CallOutcome::kClientTlsFailed;
    call.reason = std::move(reason);
    record(services, call);
    resetAndClose(clientTcp(client).socket());
  };

  auto leaf = services.leaves->certificateFor(handoff.target->host);
  if (!leaf) {
    failHandshake("no certificate for " + handoff.target->host + ": " + leaf.error().describe());
    co_return;
  }
  if (auto applied = (*leaf)->applyTo(client.native_handle()); !applied) {
    failHandshake("no certificate for " + handoff.target->host + ": " + applied.error().describe());
    co_return;
  }
  clientTcp(client).expires_after(services.settings.clientHandshakeTimeout);
  auto [handshakeError] = co_await client.async_handshake(asio::ssl::stream_base::server, kAwaitTuple);
  if (handshakeError) {
    failHandshake(handshakeFailure(handshakeError));
    co_return;
  }

  co_await serveRequests(client, handoff, services, pool, counters, earlyUpstream);

  // The answer (or refusal) is out; a close_notify tells the client nothing was cut.
  clientTcp(client).expires_after(kCloseNotifyWait);
  co_await client.async_shutdown(kAwaitTuple);
  beast::error_code ignored;
  clientTcp(client).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

}  // namespace

void startInterceptSession(InterceptHandoff handoff, const InterceptServices& services, UpstreamPool& pool,
                           ProxyCounterCells& counters, const EscapedExceptions& escaped) {
  auto executor = handoff.client.get_executor();
  asio::co_spawn(executor, runSession(std::move(handoff), services, pool, counters),
                 escaped.reporter("serving an intercepted connection"));
}

}  // namespace shadowai
