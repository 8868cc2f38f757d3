#include "support/fake_provider.h"

#include <openssl/ssl.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "support/fake_provider_answers.h"
#include "support/tls_listener.h"

namespace shadowai::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using TlsStream = TlsServerStream;

// Long enough for a slow CI machine, short enough that a stuck client cannot hold a test for minutes;
// also how long an idle keep-alive connection stays open.
constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr uint64_t kMaxRequestBody = 64ull << 20;

auto onError(boost::system::error_code& error) { return asio::redirect_error(asio::use_awaitable, error); }

}  // namespace

struct FakeProvider::Impl {
  explicit Impl(FakeProviderOptions providerOptions)
      : options(std::move(providerOptions)), answerText(options.answerText), eventDelay(options.eventDelay) {}

  FakeProviderOptions options;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::string answerText;
  std::chrono::milliseconds eventDelay;
  std::optional<FakeReply> fixedReply;
  bool holdStreams = false;   // streams stop after their first event until releaseStreams()
  size_t streamsHeld = 0;     // streams waiting at the gate now
  uint64_t answers = 0;
  std::vector<FakeProviderRequest> requests;
  // Last: destroyed first, so its thread is joined before the state above goes.
  std::unique_ptr<TlsListener> listener;

  asio::awaitable<void> serve(TlsStream& stream, const TlsConnection& connection) {
    beast::flat_buffer buffer;
    while (co_await answerOneRequest(stream, buffer, connection)) {
    }
  }

  // Reads, records and answers one request; true when the connection stays open for another.
  asio::awaitable<bool> answerOneRequest(TlsStream& stream, beast::flat_buffer& buffer,
                                         const TlsConnection& connection) {
    boost::system::error_code error;
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    beast::get_lowest_layer(stream).expires_after(kIoTimeout);
    co_await http::async_read_header(stream, buffer, parser, onError(error));
    if (error) co_return false;
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> proceed{http::status::continue_, 11};
      co_await http::async_write(stream, proceed, onError(error));
      if (error) co_return false;
    }
    co_await http::async_read(stream, buffer, parser, onError(error));
    if (error) co_return false;

    const auto& message = parser.get();
    FakeProviderRequest request;
    static_cast<RecordedRequest&>(request) = recordRequest(message, connection);
    request.connection = connection.index;
    fake_provider::Answer answer = record(std::move(request));

    const bool keepAlive = message.keep_alive();
    if (!answer.streamed) {
      http::response<http::string_body> response{static_cast<http::status>(answer.status), message.version()};
      setFields(response, answer);
      response.body() = std::move(answer.body);
      response.keep_alive(keepAlive);
      response.prepare_payload();
      co_await http::async_write(stream, response, onError(error));
      co_return !error && keepAlive;
    }
    co_return co_await writeStream(stream, answer, message.version(), keepAlive);
  }

  // Records REQUEST and decides the answer, both under the lock (the test may change the settings).
  fake_provider::Answer record(FakeProviderRequest request) {
    std::lock_guard lock(mutex);
    fake_provider::Answer answer;
    if (fixedReply) {
      answer.status = fixedReply->status;
      answer.contentType = fixedReply->contentType;
      answer.headers = fixedReply->headers;
      answer.body = fixedReply->body;
    } else {
      answer = fake_provider::generateAnswer(request, answerText, answers);
    }
    answer.headers.emplace_back("x-request-id", "req_shadowai_" + std::to_string(answers++));
    requests.push_back(std::move(request));
    changed.notify_all();
    return answer;
  }

  template <typename Response>
  static void setFields(Response& response, const fake_provider::Answer& answer) {
    response.set(http::field::server, "shadowai-fake-provider");
    response.set(http::field::content_type, answer.contentType);
    for (const auto& [name, value] : answer.headers) response.insert(name, value);
  }

  // The header, then each event as its own chunk (one write each), DELAY apart, then the last chunk.
  asio::awaitable<bool> writeStream(TlsStream& stream, const fake_provider::Answer& answer, unsigned version,
                                    bool keepAlive) {
    boost::system::error_code error;
    http::response<http::empty_body> response{static_cast<http::status>(answer.status), version};
    setFields(response, answer);
    response.keep_alive(keepAlive);
    response.chunked(true);
    http::response_serializer<http::empty_body> serializer{response};
    beast::get_lowest_layer(stream).expires_after(kIoTimeout);
    co_await http::async_write_header(stream, serializer, onError(error));
    if (error) co_return false;
    const std::chrono::milliseconds delay = currentDelay();
    asio::steady_timer timer(listener->io());
    for (size_t i = 0; i < answer.events.size(); ++i) {
      if (i == 1) co_await waitAtTheGate(timer);
      if (i > 0 && delay.count() > 0) {
        timer.expires_after(delay);
        co_await timer.async_wait(onError(error));
      }
      beast::get_lowest_layer(stream).expires_after(kIoTimeout);
      co_await asio::async_write(stream, http::make_chunk(asio::buffer(answer.events[i])), onError(error));
      if (error) co_return false;
    }
    co_await asio::async_write(stream, http::make_chunk_last(), onError(error));
    co_return !error && keepAlive;
  }

  // While streams are held: counted as held, polls (this thread serves other connections too).
  asio::awaitable<void> waitAtTheGate(asio::steady_timer& timer) {
    {
      std::lock_guard lock(mutex);
      if (!holdStreams) co_return;
      ++streamsHeld;
      changed.notify_all();
    }
    for (;;) {
      {
        std::lock_guard lock(mutex);
        if (!holdStreams) {
          --streamsHeld;
          changed.notify_all();
          co_return;
        }
      }
      boost::system::error_code error;
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(onError(error));
      if (error) co_return;
    }
  }

  std::chrono::milliseconds currentDelay() const {
    std::lock_guard lock(mutex);
    return eventDelay;
  }
};

Result<FakeProvider> FakeProvider::start(FakeProviderOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  const FakeProviderOptions& settings = impl->options;
  auto listener = TlsListener::start(
      "FakeProvider", settings.address, settings.port, settings.certPath, settings.keyPath,
      [raw = impl.get()](TlsStream& stream, const TlsConnection& connection) { return raw->serve(stream, connection); });
  if (!listener) return listener.error();
  impl->listener = std::move(*listener);
  return FakeProvider(std::move(impl));
}

FakeProvider::FakeProvider(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeProvider::FakeProvider(FakeProvider&&) noexcept = default;
FakeProvider& FakeProvider::operator=(FakeProvider&&) noexcept = default;

FakeProvider::~FakeProvider() = default;

uint16_t FakeProvider::port() const { return impl_->listener->port(); }
const std::string& FakeProvider::address() const { return impl_->options.address; }

void FakeProvider::setAnswerText(std::string text) {
  std::lock_guard lock(impl_->mutex);
  impl_->answerText = std::move(text);
}

void FakeProvider::setEventDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mutex);
  impl_->eventDelay = delay;
}

void FakeProvider::holdStreamsAfterFirstEvent() {
  std::lock_guard lock(impl_->mutex);
  impl_->holdStreams = true;
}

void FakeProvider::releaseStreams() {
  std::lock_guard lock(impl_->mutex);
  impl_->holdStreams = false;
}

bool FakeProvider::waitForHeldStreams(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->streamsHeld >= count; });
}

void FakeProvider::setFixedReply(FakeReply reply) {
  std::lock_guard lock(impl_->mutex);
  impl_->fixedReply = std::move(reply);
}

void FakeProvider::clearFixedReply() {
  std::lock_guard lock(impl_->mutex);
  impl_->fixedReply.reset();
}

size_t FakeProvider::connectionCount() const { return impl_->listener->connectionCount(); }

size_t FakeProvider::failedHandshakes() const { return impl_->listener->failedHandshakes(); }

std::vector<FakeProviderRequest> FakeProvider::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

bool FakeProvider::waitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->requests.size() >= count; });
}

}  // namespace shadowai::test
