#include "intercept/call_forwarding.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "credentials/credential_rewrite.h"
#include "intercept/answer_relay.h"
#include "intercept/http_headers.h"
#include "intercept/refusal_response.h"

namespace shadowai {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxResponseHeaderBytes = 64 << 10;

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

// The managed key in place of the client's credential, or the refusal reason when the workload
// must use a managed key and none covers it (empty: go on). Fills CALL's credential fields and
// IDENTITY (which pooled connections the call may use).
std::string applyCredentials(http::request<http::string_body>& request, const CallScope& scope, InterceptedCall& call,
                             std::string& identity) {
  const CredentialStore& store = *scope.services.credentials;
  const InterceptTarget& target = scope.target;
  if (const ManagedKey* key = store.lookup(target.providerId, target.cgroupPath, target.unitName)) {
    auto replaced = replaceClientCredentials(request.base(), target.apiFamily, key->key);
    if (replaced) {
      call.credential = CallCredential::kManaged;
      call.managedKeyLabel = key->label.empty() ? key->selector.describe() : key->label;
      call.clientKeyFingerprint = replaced->firstFingerprint();
      identity = "managed " + key->source;
      return "";
    }
    // A family whose credential is not a static key (SigV4, IAM tokens): the key cannot be used.
  }
  // What the client sent, by fingerprint, from a copy: in pass-through mode it goes upstream as is.
  http::fields copy = request.base();
  std::string target_(request.target());
  const StrippedCredentials sent = stripClientCredentials(copy, target_);
  call.clientKeyFingerprint = sent.firstFingerprint();
  if (store.modeFor(target.providerId) == CredentialMode::kRequireManaged) {
    return "calls to " + target.providerName + " from this workload must use a managed key, and none is configured for it";
  }
  call.credential = sent.clientSentCredential() ? CallCredential::kClient : CallCredential::kNone;
  identity = "client " + call.clientKeyFingerprint;
  return "";
}

}  // namespace

asio::awaitable<bool> forwardCall(ClientStream& client, http::request<http::string_body> request, bool clientKeepAlive,
                                  const ProviderAdapter& adapter, CallScope scope, InterceptedCall& call) {
  const Clock::time_point started = Clock::now();
  const InterceptSettings& settings = scope.services.settings;
  auto refuse = [&](CallOutcome outcome, unsigned status, std::string reason) -> asio::awaitable<bool> {
    call.outcome = outcome;
    call.status = status;
    call.reason = std::move(reason);
    call.latency = since(started);
    const bool written = co_await writeRefusal(client, adapter, status, call.reason, clientKeepAlive);
    co_return written && clientKeepAlive;
  };

  std::string identity;
  if (std::string refusal = applyCredentials(request, scope, call, identity); !refusal.empty()) {
    co_return co_await refuse(CallOutcome::kRefused, 403, std::move(refusal));
  }
  removeHopByHopFields(request.base());
  request.keep_alive(true);
  request.prepare_payload();
  const bool isHead = request.method() == http::verb::head;

  const UpstreamKey key{scope.facts.destination.address, scope.facts.destination.port, scope.target.host, identity,
                        scope.facts.destination.netns};
  // A pooled connection the provider closed just as we took it fails before any byte of the
  // answer: that (and only that) is retried once, on a new connection.
  for (int attempt = 0;; ++attempt) {
    std::optional<asio::ip::tcp::socket> connecting;
    if (scope.earlyUpstream && *scope.earlyUpstream) connecting = std::exchange(*scope.earlyUpstream, std::nullopt);
    auto acquired = co_await scope.pool.acquire(key, std::move(connecting));
    if (auto* failure = std::get_if<UpstreamError>(&acquired)) {
      co_return co_await refuse(CallOutcome::kUpstreamFailed, failure->kind == UpstreamFailure::kTimeout ? 504 : 502,
                                failure->message);
    }
    std::unique_ptr<UpstreamConnection> upstream = std::move(std::get<std::unique_ptr<UpstreamConnection>>(acquired));
    auto& tcp = beast::get_lowest_layer(upstream->stream);

    tcp.expires_after(settings.responseTimeout);
    auto [writeError, written] = co_await http::async_write(upstream->stream, request, kAwaitTuple);
    http::response_parser<http::buffer_body> parser;
    parser.header_limit(kMaxResponseHeaderBytes);
    parser.body_limit(boost::none);  // relayed piece by piece: its size costs no memory
    parser.skip(isHead);
    boost::system::error_code readError;
    if (!writeError) {
      tcp.expires_after(settings.responseTimeout);
      auto [error, read] = co_await http::async_read_header(upstream->stream, upstream->buffer, parser, kAwaitTuple);
      readError = error;
    }
    const boost::system::error_code failed = writeError ? writeError : readError;
    if (failed) {
      if (upstream->reused && attempt == 0 && upstream->buffer.size() == 0 && failed != beast::error::timeout) continue;
      UpstreamError error = classifyUpstreamError(key, failed, writeError ? "take the request" : "answer",
                                                  settings.responseTimeout);
      co_return co_await refuse(CallOutcome::kUpstreamFailed, error.kind == UpstreamFailure::kTimeout ? 504 : 502,
                                error.message);
    }
    call.timeToFirstByte = since(started);
    bump(scope.counters.bytesUp, request.body().size());

    // The provider's status and fields go to the client; the framing is ours (a re-serialised
    // event stream may differ in length, so it is always chunked).
    const auto& answer = parser.get();
    call.status = answer.result_int();
    const bool eventStream = isEventStream(answer[http::field::content_type]);
    if (scope.responseMasker && !isIdentityEncoded(answer[http::field::content_encoding])) {
      // We asked for an identity answer: a compressed one cannot be read to be masked.
      call.rule = "masking";
      co_return co_await refuse(CallOutcome::kBlocked, 502,
                                "the policy requires masking the answer and the provider sent it compressed (" +
                                    std::string(answer[http::field::content_encoding]) + ")");
    }
    http::response<http::buffer_body> response;
    response.base() = answer.base();
    response.version(11);
    removeHopByHopFields(response.base());
    const auto length = parser.content_length();
    if (length && (!eventStream || isHead)) {
      response.content_length(*length);
    } else if (!parser.is_done()) {
      response.chunked(true);
    }
    response.keep_alive(clientKeepAlive);
    response.body().data = nullptr;
    response.body().more = !parser.is_done();
    http::response_serializer<http::buffer_body> serializer{response};
    BodyWriter writer(client, response, serializer);
    clientTcp(client).expires_after(settings.idleTimeout);
    // An event stream's header goes out at once (the first event may take the model a while);
    // any other answer's header goes out with its first piece of body, in one TLS record.
    if (eventStream && !(co_await writer.header())) {
      call.reason = "the client went away before the answer";
      call.latency = since(started);
      co_return false;
    }
    RelayResult relayed = co_await relayAnswer(*upstream, parser, writer, eventStream, adapter, scope, call);
    bump(scope.counters.bytesDown, call.responseBytes);
    call.latency = since(started);
    if (!relayed.maskingFailure.empty()) {
      // Never relayed unmasked: a whole answer is refused (nothing of it went out), a stream was cut.
      call.rule = "masking";
      if (!eventStream) co_return co_await refuse(CallOutcome::kBlocked, 502, relayed.maskingFailure);
      call.outcome = CallOutcome::kBlocked;
      call.reason = relayed.maskingFailure;
      co_return false;
    }
    if (relayed.upstream) {
      // The header is out: too late for an error response. The client sees the answer cut short
      // (no last chunk, or fewer bytes than announced), which every HTTP client reports as an error.
      call.outcome = CallOutcome::kUpstreamFailed;
      call.reason = relayed.upstream->message;
      co_return false;
    }
    if (!relayed.clientOk) {
      call.reason = "the client went away during the answer";
      co_return false;
    }
    if (parser.keep_alive()) scope.pool.release(std::move(upstream));
    co_return clientKeepAlive;
  }
}

}  // namespace shadowai
