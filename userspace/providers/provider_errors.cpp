#include "providers/provider_errors.h"

#include <nlohmann/json.hpp>

namespace shadowai {

namespace {

std::string_view openAiType(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: break;
  }
  return status >= 500 ? "server_error" : "invalid_request_error";
}

std::string_view anthropicType(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: break;
  }
  return status >= 500 ? "api_error" : "invalid_request_error";
}

// google.rpc.Code names by their HTTP mapping (AIP-193).
std::string_view googleStatus(int status) {
  switch (status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 409: return "ABORTED";
    case 413: return "INVALID_ARGUMENT";
    case 429: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 501: return "UNIMPLEMENTED";
    case 502: return "UNAVAILABLE";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: break;
  }
  return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
}

}  // namespace

std::string providerErrorBody(ErrorShape shape, int status, std::string_view message) {
  nlohmann::json body;
  switch (shape) {
    case ErrorShape::kOpenAi:
      body["error"] = {{"message", message}, {"type", openAiType(status)}, {"code", "shadowai_refused"}};
      break;
    case ErrorShape::kAnthropic:
      body["type"] = "error";
      body["error"] = {{"type", anthropicType(status)}, {"message", message}};
      break;
    case ErrorShape::kGemini:
      body["error"] = {{"code", status}, {"message", message}, {"status", googleStatus(status)}};
      break;
  }
  // The message may quote client bytes that are not valid UTF-8; replace them rather than throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace shadowai
