// The policy's say on one intercepted request, before anything goes upstream: refuse it (a block rule
// fired, or its prompt cannot be read or masked as the policy requires: fail closed), or let it go
// with its prompt masked, and with a masker for the answer when the policy masks answers too.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <string>

#include "common/result.h"
#include "intercept/intercept_services.h"
#include "intercept/intercepted_call.h"
#include "providers/provider_adapter.h"

namespace shadowai {

struct RequestGovernance {
  bool refused = false;
  unsigned status = 403;  // when refused
  std::string message;    // when refused: what the client reads (the rule's message)
  // The call's masking state: placeholders numbered in the prompt keep their numbers in the answer.
  // Null when nothing is masked; masksResponse says whether the answer goes through it.
  std::shared_ptr<MaskSession> session;
  bool masksResponse = false;
};

// Applies the policy in SERVICES to REQUEST (whose body PARSED came from, or failed to): on refusal
// fills CALL's outcome, status, rule and reason; otherwise may replace REQUEST's body with the masked
// one and asks the provider for an uncompressed answer when the answer is to be masked. Masking
// consumes PARSED's prompt texts (they move into the masked body instead of being copied).
RequestGovernance governRequest(const InterceptServices& services, const InterceptTarget& target,
                                const ProviderAdapter& adapter,
                                boost::beast::http::request<boost::beast::http::string_body>& request,
                                Result<ParsedRequest>& parsed, InterceptedCall& call);

}  // namespace shadowai
