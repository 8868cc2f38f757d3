#include "intercept/upstream_error.h"

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

namespace shadowai {

std::string formatTimeout(std::chrono::milliseconds timeout) {
  if (timeout.count() % 1000 == 0) return std::to_string(timeout.count() / 1000) + " s";
  return std::to_string(timeout.count()) + " ms";
}

UpstreamError classifyUpstreamError(const UpstreamKey& key, const boost::system::error_code& error,
                                    std::string_view action, std::chrono::milliseconds timeout) {
  const std::string upstream = describeUpstream(key);
  if (error == boost::beast::error::timeout) {
    return {UpstreamFailure::kTimeout,
            upstream + " did not " + std::string(action) + " within " + formatTimeout(timeout)};
  }
  // The SSL category holds OpenSSL's own reasons (alerts, protocol errors). A truncated stream is
  // in Asio's separate stream category: a connection cut short, not a TLS disagreement.
  const bool fromOpenSsl = error.category() == boost::asio::error::get_ssl_category();
  return {fromOpenSsl ? UpstreamFailure::kTls : UpstreamFailure::kConnect,
          upstream + " failed to " + std::string(action) + ": " + error.message()};
}

}  // namespace shadowai
