#include "shared/worker_channel.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>

#include "shared/bench_run.h"

namespace shadowai::bench {
namespace {

// The worker's loop: a request in, its reply out, until the benchmark goes away.
int serveRequests(int channel, size_t requestSize, const WorkerChannel::Serve& serve) {
  signal(SIGPIPE, SIG_IGN);
  std::vector<uint8_t> request(requestSize);
  for (;;) {
    const ssize_t got = ::recv(channel, request.data(), request.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got != static_cast<ssize_t>(requestSize)) return 0;  // the benchmark went away
    const std::vector<uint8_t> reply = serve(request);
    if (::send(channel, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return 1;
  }
}

// A reply with all its samples is one message: both ends' buffers must hold it.
void fitBuffer(int fd, int option, size_t bytes) {
  int current = 0;
  socklen_t length = sizeof(current);
  const int wanted = static_cast<int>(bytes + 4096);
  if (::getsockopt(fd, SOL_SOCKET, option, &current, &length) == 0 && current >= wanted) return;
  ::setsockopt(fd, SOL_SOCKET, option, &wanted, sizeof(wanted));
}

}  // namespace

Result<WorkerChannel> WorkerChannel::start(size_t requestSize, size_t maxReplyBytes, const Serve& serve) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return errnoError("socketpair");
  Fd ours(pair[0]);
  Fd theirs(pair[1]);
  fitBuffer(theirs.get(), SO_SNDBUF, maxReplyBytes);
  fitBuffer(ours.get(), SO_RCVBUF, maxReplyBytes);
  test::SpawnOptions options;
  options.ownProcessGroup = true;  // a Ctrl-C at the terminal reaches the benchmark alone
  auto child = test::ChildProcess::forkRunning(
      [&] {
        ours.reset();
        return serveRequests(theirs.get(), requestSize, serve);
      },
      options);
  if (!child) return child.error();
  return WorkerChannel(std::move(*child), std::move(ours), maxReplyBytes);
}

Result<std::vector<uint8_t>> WorkerChannel::call(const void* request, size_t size, std::chrono::milliseconds timeout) {
  if (::send(channel_.get(), request, size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) {
    return errnoError("cannot reach a client worker");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (stopRequested.load()) return makeError("interrupted");
    if (std::chrono::steady_clock::now() > deadline) return makeError("a client worker did not answer in time");
    pollfd ready{channel_.get(), POLLIN, 0};
    if (::poll(&ready, 1, 200) > 0) break;
  }
  std::vector<uint8_t> message(maxReplyBytes_);
  const ssize_t got = ::recv(channel_.get(), message.data(), message.size(), 0);
  if (got < 0) return errnoError("a client worker died");
  message.resize(static_cast<size_t>(got));
  return message;
}

void decodeReplySamples(const std::vector<uint8_t>& message, size_t headerSize,
                        std::initializer_list<std::pair<uint32_t, std::vector<uint32_t>*>> lists) {
  size_t available = message.size() > headerSize ? (message.size() - headerSize) / sizeof(uint32_t) : 0;
  const uint8_t* at = message.data() + headerSize;
  for (const auto& [wanted, list] : lists) {
    const size_t count = std::min<size_t>(wanted, available);
    list->resize(count);
    if (count > 0) std::memcpy(list->data(), at, count * sizeof(uint32_t));
    at += count * sizeof(uint32_t);
    available -= count;
  }
}

}  // namespace shadowai::bench
