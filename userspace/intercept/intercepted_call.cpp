#include "intercept/intercepted_call.h"

namespace shadowai {

std::string_view toString(CallOutcome outcome) {
  switch (outcome) {
    case CallOutcome::kForwarded:
      return "forwarded";
    case CallOutcome::kRefused:
      return "refused";
    case CallOutcome::kBlocked:
      return "blocked";
    case CallOutcome::kUpstreamFailed:
      return "upstream-failed";
    case CallOutcome::kClientTlsFailed:
      return "client-tls-failed";
  }
  return "unknown";
}

std::string_view toString(CallCredential credential) {
  switch (credential) {
    case CallCredential::kNone:
      return "none";
    case CallCredential::kManaged:
      return "managed";
    case CallCredential::kClient:
      return "client";
  }
  return "unknown";
}

}  // namespace shadowai
