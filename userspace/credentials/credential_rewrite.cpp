#include "credentials/credential_rewrite.h"

#include <array>

#include "net/request_target.h"
#include "observe/env_keys.h"

namespace shadowai {
namespace {

namespace http = boost::beast::http;

// Every header a client can carry a provider key in. Proxy-Authorization is not a provider's, but a
// client that puts a key there must not have it forwarded either.
constexpr std::array<std::string_view, 5> kCredentialHeaders = {"authorization", "proxy-authorization",
                                                                "x-api-key", "api-key", "x-goog-api-key"};
// Google APIs take an API key as ?key= and an OAuth token as ?access_token=.
constexpr std::array<std::string_view, 2> kCredentialParameters = {"key", "access_token"};

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The credential of an Authorization value: what follows the scheme ("Bearer sk-x" -> "sk-x"), or the
// whole value when there is no scheme.
std::string_view authorizationCredential(std::string_view value) {
  value = trimmed(value);
  size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos) return value;
  return trimmed(value.substr(space));
}

std::string fingerprintOf(std::string_view value) { return value.empty() ? std::string() : keyFingerprint(value); }

bool isCredentialParameter(std::string_view name) {
  for (std::string_view credential : kCredentialParameters) {
    if (equalsIgnoringCase(name, credential)) return true;
  }
  return false;
}

void stripQuery(std::string& target, std::vector<ClientCredential>& found) {
  std::optional<QueryRemoval> removal = removeQueryParameters(target, isCredentialParameter);
  if (!removal) {
    // Not a target in origin form: whatever its query holds cannot be told apart, so none of it goes
    // on. (The session refuses such a request before it gets here; this is the last line.)
    const size_t question = target.find('?');
    if (question == std::string::npos) return;
    found.push_back({"query string of a malformed request target", ""});
    std::string rewritten = target.substr(0, question);
    wipeString(target);
    target = std::move(rewritten);
    return;
  }
  if (removal->removed.empty()) return;
  for (RemovedQueryParameter& parameter : removal->removed) {
    found.push_back({parameter.name + " query parameter", fingerprintOf(parameter.value)});
    wipeString(parameter.value);
  }
  wipeString(target);
  target = std::move(removal->target);
}

}  // namespace

std::optional<CredentialPlacement> credentialPlacementFor(std::string_view apiFamily) {
  // vertex-ai takes an OAuth access token the same way; the operator supplies a current one.
  static constexpr std::array<std::string_view, 11> kBearerFamilies = {
      "openai-chat", "vertex-ai", "cohere", "huggingface", "replicate", "ai21",
      "voyage",      "jina",      "nomic",  "writer",      "ollama"};
  for (std::string_view family : kBearerFamilies) {
    if (apiFamily == family) return CredentialPlacement::kAuthorizationBearer;
  }
  if (apiFamily == "azure-openai" || apiFamily == "azure-ai-inference") return CredentialPlacement::kApiKeyHeader;
  if (apiFamily == "anthropic-messages" || apiFamily == "reka") return CredentialPlacement::kXApiKeyHeader;
  if (apiFamily == "gemini") return CredentialPlacement::kGoogApiKeyHeader;
  return std::nullopt;
}

std::string StrippedCredentials::firstFingerprint() const {
  for (const ClientCredential& credential : found) {
    if (!credential.fingerprint.empty()) return credential.fingerprint;
  }
  return {};
}

StrippedCredentials stripClientCredentials(http::fields& fields, std::string& target) {
  StrippedCredentials result;
  for (std::string_view header : kCredentialHeaders) {
    bool isAuthorization = header == "authorization" || header == "proxy-authorization";
    auto [begin, end] = fields.equal_range(header);
    for (auto it = begin; it != end; ++it) {
      std::string_view value = it->value();
      result.found.push_back({std::string(header) + " header",
                              fingerprintOf(isAuthorization ? authorizationCredential(value) : trimmed(value))});
    }
    fields.erase(header);  // every occurrence, whatever its case
  }
  stripQuery(target, result.found);
  return result;
}

StrippedCredentials stripClientCredentials(http::request_header<>& request) {
  std::string target(request.target());
  StrippedCredentials result = stripClientCredentials(static_cast<http::fields&>(request), target);
  if (target != request.target()) request.target(target);
  wipeString(target);
  return result;
}

Result<StrippedCredentials> replaceClientCredentials(http::request_header<>& request, std::string_view apiFamily,
                                                     const SecretString& key) {
  auto placement = credentialPlacementFor(apiFamily);
  if (!placement) {
    return makeError("cannot inject a managed key for API family \"" + std::string(apiFamily) +
                     "\": its credential is not a static key");
  }
  StrippedCredentials stripped = stripClientCredentials(request);
  switch (*placement) {
    case CredentialPlacement::kAuthorizationBearer: {
      std::string value = "Bearer ";
      value.reserve(value.size() + key.size());
      value += key.reveal();
      request.set(http::field::authorization, value);
      wipeString(value);
      break;
    }
    case CredentialPlacement::kApiKeyHeader:
      request.set("api-key", key.reveal());
      break;
    case CredentialPlacement::kXApiKeyHeader:
      request.set("x-api-key", key.reveal());
      break;
    case CredentialPlacement::kGoogApiKeyHeader:
      request.set("x-goog-api-key", key.reveal());
      break;
  }
  return stripped;
}

}  // namespace shadowai
