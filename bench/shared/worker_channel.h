// A benchmark's client worker: a forked copy of the benchmark (so it can be moved into a cgroup of
// its own: a socket belongs to the cgroup of the task that creates it), driven over a SOCK_SEQPACKET
// pair. Each request is one message of a fixed-size struct; each reply one message: a fixed-size
// header, then uint32_t samples. The worker ends when the benchmark closes its end.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

#include "common/fd.h"
#include "common/result.h"
#include "support/child_process.h"

namespace shadowai::bench {

class WorkerChannel {
 public:
  // In the worker: the reply to one request (REQUEST holds the request's bytes).
  using Serve = std::function<std::vector<uint8_t>(const std::vector<uint8_t>& request)>;

  // Forks a worker that answers requests of REQUEST_SIZE bytes with SERVE, each reply at most
  // MAX_REPLY_BYTES. Call while the process is single-threaded (ChildProcess::forkRunning).
  static Result<WorkerChannel> start(size_t requestSize, size_t maxReplyBytes, const Serve& serve);

  pid_t pid() const { return process_.pid(); }

  // Sends REQUEST and waits up to TIMEOUT for the reply; gives up when the benchmark is stopped.
  Result<std::vector<uint8_t>> call(const void* request, size_t size, std::chrono::milliseconds timeout);

 private:
  WorkerChannel(test::ChildProcess process, Fd channel, size_t maxReplyBytes)
      : process_(std::move(process)), channel_(std::move(channel)), maxReplyBytes_(maxReplyBytes) {}

  test::ChildProcess process_;  // killed and reaped by its destructor, after the channel is closed
  Fd channel_;
  size_t maxReplyBytes_;
};

// A client worker whose requests are REQUEST structs, answered by a client object made in the worker
// on its first request; REPLY says how it travels: `std::vector<uint8_t> encode() const` and
// `static Result<Reply> decode(const std::vector<uint8_t>&)`.
template <typename Request, typename Reply>
class Worker {
 public:
  // MAKE_CLIENT returns a pointer to an object with `Reply handle(const Request&)`. Call while the
  // process is single-threaded (ChildProcess::forkRunning).
  template <typename MakeClient>
  static Result<Worker> start(size_t maxReplyBytes, std::chrono::milliseconds timeout, MakeClient makeClient) {
    auto serve = [makeClient, client = decltype(makeClient())()](const std::vector<uint8_t>& bytes) mutable {
      if (!client) client = makeClient();
      Request request;
      std::memcpy(&request, bytes.data(), sizeof(request));
      return client->handle(request).encode();
    };
    auto channel = WorkerChannel::start(sizeof(Request), maxReplyBytes, serve);
    if (!channel) return channel.error();
    return Worker(std::move(*channel), timeout);
  }

  pid_t pid() const { return channel_.pid(); }

  Result<Reply> call(const Request& request) {
    auto message = channel_.call(&request, sizeof(request), timeout_);
    if (!message) return message.error();
    return Reply::decode(*message);
  }

 private:
  Worker(WorkerChannel channel, std::chrono::milliseconds timeout) : channel_(std::move(channel)), timeout_(timeout) {}
  WorkerChannel channel_;
  std::chrono::milliseconds timeout_;
};

// A reply: HEADER's bytes, then each list of samples in turn.
template <typename Header>
std::vector<uint8_t> encodeReply(const Header& header, std::initializer_list<const std::vector<uint32_t>*> samples) {
  size_t count = 0;
  for (const auto* list : samples) count += list->size();
  std::vector<uint8_t> message(sizeof(Header) + count * sizeof(uint32_t));
  std::memcpy(message.data(), &header, sizeof(Header));
  uint8_t* at = message.data() + sizeof(Header);
  for (const auto* list : samples) {
    if (!list->empty()) std::memcpy(at, list->data(), list->size() * sizeof(uint32_t));
    at += list->size() * sizeof(uint32_t);
  }
  return message;
}

// The header of MESSAGE, its `error` text terminated whatever the worker wrote; an error when
// MESSAGE is shorter than a header: the worker died.
template <typename Header>
Result<Header> decodeReplyHeader(const std::vector<uint8_t>& message) {
  if (message.size() < sizeof(Header)) return makeError("a client worker died");
  Header header;
  std::memcpy(&header, message.data(), sizeof(Header));
  header.error[sizeof(header.error) - 1] = '\0';
  return header;
}

// The samples after a header of HEADER_SIZE bytes: as many into each list as its count says, fewer
// when the message holds fewer.
void decodeReplySamples(const std::vector<uint8_t>& message, size_t headerSize,
                        std::initializer_list<std::pair<uint32_t, std::vector<uint32_t>*>> lists);

}  // namespace shadowai::bench
