// An exception that escapes a coroutine the proxy spawns for a listener or a connection (a bug, or
// memory running out) would otherwise end in co_spawn's completion handler without a trace: the
// connection just closes, or the listener stops accepting for good. EscapedExceptions counts each
// one (ProxyCounters::escapedExceptions, in `shadowai status`) and logs it once, where it is caught;
// nothing rethrows it, so the worker thread, its listeners and its other connections go on.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace shadowai {

// Told one line about something that went wrong inside the proxy. Called on a worker thread, so it
// must not block: a worker waiting on its log stops every connection it serves.
using ProxyLogSink = std::function<void(std::string_view line)>;

class EscapedExceptions {
 public:
  // COUNT is the counter cell to bump; LOG empty: stderr, without waiting for its reader.
  EscapedExceptions(std::atomic<uint64_t>& count, ProxyLogSink log);

  // Counts ERROR, caught while doing WHERE ("serving a connection"), and logs it.
  void report(const char* where, const std::exception_ptr& error) const noexcept;

  // A co_spawn completion handler that reports the exception its coroutine ended with, if any.
  auto reporter(const char* where) const {
    return [this, where](const std::exception_ptr& error) {
      if (error) report(where, error);
    };
  }

 private:
  std::atomic<uint64_t>& count_;
  ProxyLogSink log_;
};

// What the log says of ERROR: its type, and for a system error its error code's message. Not what()
// in general: other exceptions' messages may quote the data they choked on (a JSON parser's does),
// and that data may be a prompt or a key.
std::string describeEscapedException(const std::exception_ptr& error);

}  // namespace shadowai
