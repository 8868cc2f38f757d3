// StreamRelay between real loopback TCP sockets (no root needed): bytes arrive identical both ways
// even when every write to the other side is partial, the peeked bytes go first, half-close passes
// through in both orders, a reset is passed on as a reset, and a quiet pair is closed.
#include "support/socket_io.h"
#include "proxy/stream_relay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "common/fd.h"

namespace shadowai {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A deadline for reads in the test's own blocking sockets, so a relay bug fails a test instead of
// hanging it. Never reached when the relay works.
constexpr int kSafetySeconds = 30;

void setSafetyTimeout(int fd) {
  timeval timeout{kSafetySeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

// Two connected loopback TCP sockets.
std::pair<Fd, Fd> tcpPair() {
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::listen(listener.get(), 1), 0);
  EXPECT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  Fd near(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(near.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  Fd far(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  setSafetyTimeout(near.get());
  setSafetyTimeout(far.get());
  return {std::move(near), std::move(far)};
}

using test::sendAll;
using test::readUntilEnd;
using test::readExactly;
using test::ReadResult;

std::string randomBytes(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (auto& byte : data) byte = static_cast<char>(generator());
  return data;
}

// client app <-> [clientSide | relay | upstreamSide] <-> server app, the relay on its own thread.
class StreamRelayTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (io_) io_->stop();
    if (thread_.joinable()) thread_.join();
  }

  // SMALL_BUFFERS: small send buffers on the relay's sockets, far below its 64 KiB reads, so its
  // writes are partial. (Small receive buffers would rather test TCP's persist timer.)
  void startRelay(std::string firstUpstreamBytes = {}, std::chrono::seconds idleTimeout = 60s,
                  bool smallBuffers = false) {
    auto [clientApp, clientSide] = tcpPair();
    auto [upstreamSide, serverApp] = tcpPair();
    clientApp_ = std::move(clientApp);
    serverApp_ = std::move(serverApp);
    if (smallBuffers) {
      for (int fd : {clientSide.get(), upstreamSide.get()}) {
        int size = 8192;
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      }
    }
    tcp::socket client(*io_, tcp::v4(), clientSide.release());
    tcp::socket upstream(*io_, tcp::v4(), upstreamSide.release());
    auto slot = ConnectionSlot::tryAcquire(active_, 10);
    ASSERT_TRUE(slot);
    RelaySettings settings;
    settings.idleTimeout = idleTimeout;
    settings.scratch = scratch_;
    settings.counters = &counters_;
    StreamRelay::start(std::move(client), std::move(upstream),
                       std::vector<uint8_t>(firstUpstreamBytes.begin(), firstUpstreamBytes.end()), settings,
                       std::move(*slot));
    thread_ = std::thread([this] { io_->run(); });
  }

  // Polls until the relay has ended (its slot is given back); false if it never does.
  bool waitForRelayEnd() {
    for (int i = 0; i < kSafetySeconds * 100; ++i) {
      if (active_.load() == 0) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::unique_ptr<asio::io_context> io_ = std::make_unique<asio::io_context>(1);
  std::thread thread_;
  std::vector<uint8_t> scratch_ = std::vector<uint8_t>(65536);
  ProxyCounterCells counters_;
  std::atomic<uint64_t> active_{0};
  Fd clientApp_;
  Fd serverApp_;
};

TEST_F(StreamRelayTest, LargeTransferBothWaysIsIdenticalThroughPartialWrites) {
  const std::string first = "first bytes, as peeked";
  startRelay(first, 60s, /*smallBuffers=*/true);
  const std::string up = randomBytes(4 << 20, 1);
  const std::string down = randomBytes(4 << 20, 2);

  ReadResult atServer, atClient;
  std::thread serverReader([&] { atServer = readUntilEnd(serverApp_.get()); });
  std::thread clientReader([&] { atClient = readUntilEnd(clientApp_.get()); });
  std::thread serverWriter([&] {
    EXPECT_TRUE(sendAll(serverApp_.get(), down));
    ::shutdown(serverApp_.get(), SHUT_WR);
  });
  EXPECT_TRUE(sendAll(clientApp_.get(), up));
  ::shutdown(clientApp_.get(), SHUT_WR);
  serverWriter.join();
  serverReader.join();
  clientReader.join();

  EXPECT_EQ(atServer.error, 0);
  EXPECT_EQ(atClient.error, 0);
  EXPECT_TRUE(atServer.data == first + up) << "upstream got " << atServer.data.size() << " bytes";
  EXPECT_TRUE(atClient.data == down) << "client got " << atClient.data.size() << " bytes";
  ASSERT_TRUE(waitForRelayEnd());
  EXPECT_EQ(counters_.bytesUp.load(), first.size() + up.size());
  EXPECT_EQ(counters_.bytesDown.load(), down.size());
  EXPECT_EQ(counters_.relayErrors.load(), 0u);
}

TEST_F(StreamRelayTest, ClientHalfCloseLetsTheAnswerThrough) {
  startRelay();
  ASSERT_TRUE(sendAll(clientApp_.get(), "question"));
  ::shutdown(clientApp_.get(), SHUT_WR);
  ReadResult atServer = readUntilEnd(serverApp_.get());  // ends: our end of stream was passed on
  EXPECT_EQ(atServer.error, 0);
  EXPECT_EQ(atServer.data, "question");
  ASSERT_TRUE(sendAll(serverApp_.get(), "answer after the client's end"));
  serverApp_.reset();
  ReadResult atClient = readUntilEnd(clientApp_.get());
  EXPECT_EQ(atClient.error, 0);
  EXPECT_EQ(atClient.data, "answer after the client's end");
  EXPECT_TRUE(waitForRelayEnd());
}

TEST_F(StreamRelayTest, ServerHalfCloseLetsTheClientKeepSending) {
  startRelay();
  ASSERT_TRUE(sendAll(serverApp_.get(), "banner"));
  ::shutdown(serverApp_.get(), SHUT_WR);
  ReadResult atClient = readUntilEnd(clientApp_.get());
  EXPECT_EQ(atClient.error, 0);
  EXPECT_EQ(atClient.data, "banner");
  const std::string late = randomBytes(1 << 20, 3);
  ASSERT_TRUE(sendAll(clientApp_.get(), late));
  clientApp_.reset();
  ReadResult atServer = readUntilEnd(serverApp_.get());
  EXPECT_EQ(atServer.error, 0);
  EXPECT_TRUE(atServer.data == late) << atServer.data.size();
  EXPECT_TRUE(waitForRelayEnd());
}

TEST_F(StreamRelayTest, ResetFromOneSideIsPassedOnAsAReset) {
  startRelay();
  ASSERT_TRUE(sendAll(clientApp_.get(), "x"));
  EXPECT_EQ(readExactly(serverApp_.get(), 1), "x");
  linger abortive{1, 0};
  ::setsockopt(clientApp_.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  clientApp_.reset();
  ReadResult atServer = readUntilEnd(serverApp_.get());
  EXPECT_EQ(atServer.error, ECONNRESET);
  EXPECT_TRUE(waitForRelayEnd());
  EXPECT_EQ(counters_.relayErrors.load(), 1u);
}

TEST_F(StreamRelayTest, QuietPairIsClosedAfterTheIdleTimeout) {
  startRelay({}, 1s);
  ASSERT_TRUE(sendAll(clientApp_.get(), "x"));
  EXPECT_EQ(readExactly(serverApp_.get(), 1), "x");
  // Then nothing, from either side: both see a plain end of stream.
  ReadResult atClient = readUntilEnd(clientApp_.get());
  ReadResult atServer = readUntilEnd(serverApp_.get());
  EXPECT_EQ(atClient.error, 0);
  EXPECT_EQ(atServer.error, 0);
  EXPECT_TRUE(waitForRelayEnd());
  EXPECT_EQ(counters_.idleTimeouts.load(), 1u);
}

TEST_F(StreamRelayTest, StoppingTheIoContextResetsBothSides) {
  startRelay();
  ASSERT_TRUE(sendAll(clientApp_.get(), "x"));
  EXPECT_EQ(readExactly(serverApp_.get(), 1), "x");
  // What ProxyServer::stop() does to a worker: stop its loop, then destroy what is left.
  io_->stop();
  thread_.join();
  io_.reset();
  EXPECT_EQ(active_.load(), 0u);
  EXPECT_EQ(readUntilEnd(clientApp_.get()).error, ECONNRESET);
  EXPECT_EQ(readUntilEnd(serverApp_.get()).error, ECONNRESET);
}

}  // namespace
}  // namespace shadowai
