#include "proxy/escaped_exceptions.h"

#include <boost/core/demangle.hpp>
#include <boost/system/system_error.hpp>
#include <system_error>
#include <typeinfo>

#include "common/stderr_without_waiting.h"

namespace shadowai {

EscapedExceptions::EscapedExceptions(std::atomic<uint64_t>& count, ProxyLogSink log)
    : count_(count), log_(std::move(log)) {
  if (!log_) log_ = [](std::string_view line) { writeStderrLineWithoutWaiting("shadowaid: " + std::string(line)); };
}

void EscapedExceptions::report(const char* where, const std::exception_ptr& error) const noexcept {
  count_.fetch_add(1, std::memory_order_relaxed);
  try {
    log_("proxy: exception while " + std::string(where) + ": " + describeEscapedException(error) +
         " (counted in proxy.escaped_exceptions; the listener goes on)");
  } catch (...) {
    // The count stands; a log that throws has nothing better to be told.
  }
}

std::string describeEscapedException(const std::exception_ptr& error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& caught) {
    return "boost::system::system_error: " + caught.code().message();
  } catch (const std::system_error& caught) {
    return "std::system_error: " + caught.code().message();
  } catch (const std::exception& caught) {
    return boost::core::demangle(typeid(caught).name());
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

}  // namespace shadowai
