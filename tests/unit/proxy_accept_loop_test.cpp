// What becomes of an exception inside the proxy's coroutines, on real loopback sockets (no root):
// a listener whose admission of one connection throws goes on serving the next, and every escaped
// exception is counted and logged once, without the message that might quote a secret.
#include "proxy/accept_loop.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "proxy/escaped_exceptions.h"
#include "support/socket_io.h"

namespace shadowai {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using ::testing::Not;

// A connection that is never accepted would leave the test's read waiting; this ends it (with
// EAGAIN) instead of hanging. Never reached when the listener survives.
constexpr int kSafetySeconds = 5;

Fd connectToLoopback(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval timeout{kSafetySeconds, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

TEST(ProxyAcceptLoop, ListenerServesTheNextConnectionAfterAdmittingOneThrew) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  std::vector<std::string> logged;  // written on the io thread, read once it is joined
  ProxyCallbacks callbacks;
  callbacks.log = [&logged](std::string_view line) { logged.emplace_back(line); };
  ProxyContext context(ProxyOptions{}, std::move(callbacks));

  int admitted = 0;
  auto admit = [&admitted](tcp::socket socket) {
    if (++admitted == 1) throw std::runtime_error("cannot admit: sk-proj-NotForTheLog");
    asio::write(socket, asio::buffer(std::string_view("served\n")));
  };
  bool loopEnded = false;
  std::exception_ptr loopEndedWith;
  asio::co_spawn(io, acceptConnections(acceptor, context, admit), [&](const std::exception_ptr& error) {
    loopEnded = true;
    loopEndedWith = error;
  });
  std::thread worker([&io] { io.run(); });

  Fd first = connectToLoopback(port);
  const test::ReadResult firstRead = test::readUntilEnd(first.get());
  Fd second = connectToLoopback(port);
  const test::ReadResult secondRead = test::readUntilEnd(second.get());
  asio::post(io, [&acceptor] { acceptor.close(); });
  worker.join();

  EXPECT_EQ(firstRead.data, "");  // the throw closed it
  EXPECT_EQ(firstRead.error, 0);
  EXPECT_EQ(secondRead.data, "served\n");
  EXPECT_EQ(admitted, 2);
  EXPECT_TRUE(loopEnded);  // by the close, without an exception
  EXPECT_FALSE(loopEndedWith);
  EXPECT_EQ(context.counters().snapshot().escapedExceptions, 1u);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_THAT(logged[0], HasSubstr("accepting a connection"));
  EXPECT_THAT(logged[0], HasSubstr("std::runtime_error"));
  EXPECT_THAT(logged[0], Not(HasSubstr("sk-proj")));
}

TEST(EscapedExceptions, CoroutineThatThrowsIsCountedAndLoggedOnce) {
  asio::io_context io;
  std::atomic<uint64_t> count{0};
  std::vector<std::string> logged;
  EscapedExceptions escaped(count, [&logged](std::string_view line) { logged.emplace_back(line); });
  auto throwing = []() -> asio::awaitable<void> {
    throw std::system_error(std::make_error_code(std::errc::too_many_files_open), "opening sk-proj-NotForTheLog");
    co_return;
  };
  auto finishing = []() -> asio::awaitable<void> { co_return; };
  asio::co_spawn(io, throwing(), escaped.reporter("serving a connection"));
  asio::co_spawn(io, finishing(), escaped.reporter("serving a connection"));
  io.run();

  EXPECT_EQ(count.load(), 1u);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_THAT(logged[0], HasSubstr("serving a connection"));
  EXPECT_THAT(logged[0], HasSubstr(std::make_error_code(std::errc::too_many_files_open).message()));
  EXPECT_THAT(logged[0], Not(HasSubstr("sk-proj")));
}

}  // namespace
}  // namespace shadowai
