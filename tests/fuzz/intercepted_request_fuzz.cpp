// Fuzzes what the interception does with a workload's raw HTTP/1.1 request before it goes upstream:
// Beast parses it (with the proxy's limits), then the proxy's own code runs on the untrusted header
// and target: the adapter choice, the credential removal and replacement, the hop-by-hop removal, the
// path for alerts, and the masking of the body (body_masking.h). Besides crashes it checks the promise
// of the credential code: after the managed key is put in, no other credential of the client is left
// in the header or the target.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "body_masking.h"
#include "credentials/credential_rewrite.h"
#include "credentials/secret_string.h"
#include "net/request_target.h"
#include "intercept/http_headers.h"
#include "providers/provider_adapter.h"

namespace {

namespace http = boost::beast::http;

using mask_fuzz::check;

constexpr std::string_view kFamilies[] = {"openai-chat", "azure-openai", "anthropic-messages", "gemini"};
constexpr std::string_view kManagedKey = "managed-key-for-the-fuzzer";

}  // namespace

// libFuzzer calls this once before the first input: compiling every detector takes long enough
// under the sanitizers that the first input would otherwise count against -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mask_fuzz::rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view family = kFamilies[data[0] % std::size(kFamilies)];
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 << 10);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code error;
  parser.put(boost::asio::buffer(data + 1, size - 1), error);
  if (error || !parser.is_header_done()) return 0;

  http::request<http::string_body> request = parser.release();
  // The path never holds the query (a key can sit there), and removing nothing changes nothing.
  const std::string_view path = shadowai::requestPath(request.target());
  check(path.find('?') == std::string_view::npos);
  if (auto unchanged = shadowai::removeQueryParameters(request.target(), [](std::string_view) { return false; })) {
    check(unchanged->target == request.target() && unchanged->removed.empty());
  }
  auto adapter = shadowai::adapterFor(family, "host.example", request.method_string(), request.target());
  check(adapter != nullptr);
  (void)adapter->parseRequest(request.target(), request.body());
  mask_fuzz::maskRequestLikeTheProxy(*adapter, request.target(), request.body());

  const shadowai::SecretString key(kManagedKey);
  auto replaced = shadowai::replaceClientCredentials(request.base(), family, key);
  check(replaced.ok());
  // What is left must hold the managed key once, and no client credential.
  http::fields copy = request.base();
  std::string target(request.target());
  const auto left = shadowai::stripClientCredentials(copy, target);
  check(left.found.size() == 1);
  shadowai::removeHopByHopFields(request.base());
  return 0;
}
