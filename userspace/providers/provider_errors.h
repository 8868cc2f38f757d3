// Refusals in each provider's own error shape, so an SDK raises its ordinary API error with our
// message instead of failing to parse a foreign body.
#pragma once

#include <string>
#include <string_view>

namespace shadowai {

enum class ErrorShape {
  kOpenAi,     // {"error":{"message","type","code"}}            (OpenAI, Azure, OpenAI-compatible)
  kAnthropic,  // {"type":"error","error":{"type","message"}}
  kGemini,     // {"error":{"code","message","status"}}
};

inline constexpr std::string_view kProviderErrorContentType = "application/json";

// The body of an HTTP `status` refusal. The type/status names are the ones each provider uses for that
// HTTP status, since SDKs map them to exception classes.
std::string providerErrorBody(ErrorShape shape, int status, std::string_view message);

}  // namespace shadowai
