#include "proxy/proxy_connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/client_hello_peek.h"
#include "proxy/proxy_sockets.h"
#include "proxy/stream_relay.h"
#include "proxy/upstream_attempt.h"

namespace shadowai {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

struct PeekOutcome {
  enum class Kind { kDone, kTimedOut, kClientGone } kind = Kind::kDone;
  ClientHelloPeek peek;
};

ProxyEvent eventFor(ProxyEventKind kind, const AcceptedConnection& connection) {
  ProxyEvent event;
  event.kind = kind;
  event.clientAddress = connection.clientAddress;
  event.clientPort = connection.clientPort;
  event.destination = connection.destination;
  return event;
}

// Reads until the peek is done, the client goes away, or TIMER (armed by the caller) fires.
asio::awaitable<PeekOutcome> peekClient(tcp::socket& client, asio::steady_timer& timer, std::span<uint8_t> scratch,
                                        size_t maxPeekBytes) {
  PeekOutcome outcome{PeekOutcome::Kind::kDone, ClientHelloPeek(maxPeekBytes)};
  ClientHelloPeek& peek = outcome.peek;
  while (!peek.done()) {
    boost::system::error_code error;
    const size_t want = std::min(scratch.size(), peek.remaining());
    const size_t got = client.read_some(asio::buffer(scratch.data(), want), error);
    if (error == asio::error::would_block || error == asio::error::try_again) {
      auto woken = co_await (client.async_wait(tcp::socket::wait_read, kAwaitTuple) || timer.async_wait(kAwaitTuple));
      if (woken.index() == 1) {
        outcome.kind = PeekOutcome::Kind::kTimedOut;
        break;
      }
      if (std::get<0>(std::get<0>(woken))) {
        outcome.kind = PeekOutcome::Kind::kClientGone;
        break;
      }
      continue;
    }
    if (error) {  // end of stream or reset before the client said enough to decide
      outcome.kind = PeekOutcome::Kind::kClientGone;
      break;
    }
    peek.append(std::span<const uint8_t>(scratch.data(), got));
  }
  co_return outcome;
}

ConnectionFacts factsOf(const AcceptedConnection& connection, const ClientHelloPeek& peek) {
  ConnectionFacts facts;
  facts.destination = connection.destination;
  facts.clientAddress = connection.clientAddress;
  facts.clientPort = connection.clientPort;
  facts.isTls = peek.isTls();
  facts.helloStatus = peek.hello().status;
  if (!peek.hello().serverName.empty()) facts.sni = peek.hello().serverName;
  facts.alpn = peek.hello().alpn;
  if (!facts.isTls) facts.httpHost = peek.httpHost();
  return facts;
}

// Every way out of run() before the relay takes the socket is a refusal, a failure or a stop:
// each resets the client. (Once handed over, the moved-from socket is closed and this does nothing.)
class ResetUnlessHandedOver {
 public:
  explicit ResetUnlessHandedOver(tcp::socket& socket) : socket_(socket) {}
  ResetUnlessHandedOver(const ResetUnlessHandedOver&) = delete;
  ResetUnlessHandedOver& operator=(const ResetUnlessHandedOver&) = delete;
  ~ResetUnlessHandedOver() { resetAndClose(socket_); }

 private:
  tcp::socket& socket_;
};

// The same for an upstream connect started early: a refused connection must not leave a
// half-open connection at its destination.
class ResetUpstreamUnlessHandedOver {
 public:
  explicit ResetUpstreamUnlessHandedOver(std::optional<UpstreamAttempt>& attempt) : attempt_(attempt) {}
  ResetUpstreamUnlessHandedOver(const ResetUpstreamUnlessHandedOver&) = delete;
  ResetUpstreamUnlessHandedOver& operator=(const ResetUpstreamUnlessHandedOver&) = delete;
  ~ResetUpstreamUnlessHandedOver() {
    if (attempt_ && attempt_->socket) resetAndClose(*attempt_->socket);
  }

 private:
  std::optional<UpstreamAttempt>& attempt_;
};

asio::awaitable<void> run(AcceptedConnection connection, ProxyContext& context, std::span<uint8_t> scratch,
                          InterceptWorkerState* workerState, ConnectionSlot slot) {
  const ProxyOptions& options = context.options();
  ProxyCounterCells& counters = context.counters();
  tcp::socket& client = connection.socket;
  ResetUnlessHandedOver resetOnExit(client);
  boost::system::error_code ignored;
  client.non_blocking(true, ignored);
  client.set_option(tcp::no_delay(true), ignored);

  // The upstream connect, when the policy lets it start now, runs in the kernel while the client
  // sends its ClientHello; it is only waited for once the verdict says splice.
  const tcp::endpoint destination = toEndpoint(connection.destination.address, connection.destination.port);
  std::optional<UpstreamAttempt> upstream;
  ResetUpstreamUnlessHandedOver resetUpstreamOnExit(upstream);
  if (context.connectEarly(connection.destination)) {
    upstream = startUpstreamConnect(client.get_executor(), destination, options.upstreamMark,
                                    connection.destination.netns.get());
    bump(counters.earlyConnects);
  }

  asio::steady_timer timer(client.get_executor());
  timer.expires_after(options.peekTimeout);
  PeekOutcome peeked = co_await peekClient(client, timer, scratch, options.maxPeekBytes);
  if (peeked.kind == PeekOutcome::Kind::kClientGone) {
    bump(counters.closedDuringPeek);
    co_return;
  }
  if (peeked.kind == PeekOutcome::Kind::kTimedOut) {
    bump(counters.peekTimeouts);
    ProxyEvent event = eventFor(ProxyEventKind::kPeekTimeout, connection);
    event.detail = peeked.peek.bytes().empty()
                       ? "the client sent nothing"
                       : "the client sent " + std::to_string(peeked.peek.bytes().size()) + " bytes, no whole ClientHello";
    context.report(event);
    co_return;
  }

  const ConnectionFacts facts = factsOf(connection, peeked.peek);
  bump(facts.isTls ? counters.tlsConnections : counters.nonTlsConnections);
  ConnectionDecision decision = context.decide(facts);
  if (decision.verdict == ConnectionVerdict::kRefuse) {
    bump(counters.refusedByDecision);
    ProxyEvent event = eventFor(ProxyEventKind::kRefusedByDecision, connection);
    event.sni = facts.sni;
    context.report(event);
    co_return;
  }
  if (decision.verdict == ConnectionVerdict::kIntercept) {
    if (ConnectionInterceptor* interceptor = context.interceptor(); interceptor && workerState) {
      bump(counters.intercepted);
      // An early upstream connect goes along: the interception may use it for its first
      // upstream connection instead of connecting again.
      std::optional<tcp::socket> earlyUpstream;
      if (upstream && upstream->failure.empty()) earlyUpstream = std::move(upstream->socket);
      upstream.reset();
      interceptor->intercept(InterceptHandoff{std::move(client), peeked.peek.takeBytes(), facts,
                                              std::move(decision.target), std::move(slot), std::move(earlyUpstream)},
                             *workerState, counters, context.escapedExceptions());
      co_return;
    }
    bump(counters.interceptUnavailable);
    ProxyEvent event = eventFor(ProxyEventKind::kInterceptUnavailable, connection);
    event.sni = facts.sni;
    event.detail = "interception is not available: spliced";
    context.report(event);
  }

  if (!upstream) upstream = startUpstreamConnect(client.get_executor(), destination, options.upstreamMark,
                                    connection.destination.netns.get());
  timer.expires_after(options.connectTimeout);
  const std::string failure = (co_await finishUpstreamConnect(*upstream, timer)).failure;
  if (!failure.empty()) {
    bump(counters.upstreamConnectFailures);
    ProxyEvent event = eventFor(ProxyEventKind::kUpstreamConnectFailed, connection);
    event.sni = facts.sni;
    event.detail = "connect to " + formatEndpoint(connection.destination.address, connection.destination.port) +
                   ": " + failure;
    context.report(event);
    co_return;
  }

  bump(counters.spliced);
  RelaySettings settings;
  settings.idleTimeout = options.idleTimeout;
  settings.scratch = scratch;
  settings.counters = &counters;
  StreamRelay::start(std::move(client), std::move(*upstream->socket), peeked.peek.takeBytes(), settings, std::move(slot));
}

}  // namespace

void serveConnection(AcceptedConnection connection, ProxyContext& context, std::span<uint8_t> scratch,
                     InterceptWorkerState* interceptState, ConnectionSlot slot) {
  auto executor = connection.socket.get_executor();
  // An exception unwinds run()'s frame, whose guards reset both sockets; it is reported here.
  asio::co_spawn(executor, run(std::move(connection), context, scratch, interceptState, std::move(slot)),
                 context.escapedExceptions().reporter("serving a connection"));
}

}  // namespace shadowai
