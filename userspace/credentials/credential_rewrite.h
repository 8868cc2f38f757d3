// Swapping the client's credential for the managed one on a request the proxy re-originates. Every
// place a client can put a key is emptied (Authorization, Proxy-Authorization, x-api-key, api-key,
// x-goog-api-key headers in any case and any number, and the key / access_token query parameters in
// any percent-encoding), then the managed key goes where the provider's API family expects it. What
// the client had sent is reported by fingerprint only, for the alert that says a workload still holds
// a real key of its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>

#include "common/result.h"
#include "credentials/secret_string.h"

namespace shadowai {

// Where a provider API takes its key.
enum class CredentialPlacement {
  kAuthorizationBearer,  // Authorization: Bearer KEY (OpenAI and the OpenAI-compatible APIs)
  kApiKeyHeader,         // api-key: KEY (Azure OpenAI, Azure AI inference)
  kXApiKeyHeader,        // x-api-key: KEY (Anthropic)
  kGoogApiKeyHeader,     // x-goog-api-key: KEY (Gemini)
};

// The placement for an apiFamily of rules/endpoints.json; nullopt for families whose credential is
// not a static key (bedrock signs each request with SigV4; watsonx exchanges its key for IAM tokens)
// and for families this build does not know.
std::optional<CredentialPlacement> credentialPlacementFor(std::string_view apiFamily);

struct ClientCredential {
  std::string where;        // "authorization header", "x-api-key header", "key query parameter", ...
  std::string fingerprint;  // keyFingerprint of the value (the token after "Bearer "); "" when empty
};

struct StrippedCredentials {
  std::vector<ClientCredential> found;  // headers first, then query parameters, each in request order

  bool clientSentCredential() const { return !found.empty(); }
  // The fingerprint of the first non-empty credential the client sent, "" when none.
  std::string firstFingerprint() const;
};

// Removes every client credential from FIELDS and from TARGET (the request-target; other query
// parameters keep their order and spelling, and a query left empty loses its '?'). A target that
// does not parse (net/request_target.h) loses its whole query.
StrippedCredentials stripClientCredentials(boost::beast::http::fields& fields, std::string& target);

// The same on a request, whatever its body type (http::request<B> is a request_header<>).
StrippedCredentials stripClientCredentials(boost::beast::http::request_header<>& request);

// Strips the client's credentials and puts KEY where APIFAMILY expects it. Fails, leaving the request
// untouched, for a family without a placement. Beast keeps its own copy of the header value, which is
// not wiped when the request is freed; the caller should not keep requests around longer than needed.
Result<StrippedCredentials> replaceClientCredentials(boost::beast::http::request_header<>& request,
                                                     std::string_view apiFamily, const SecretString& key);

}  // namespace shadowai
