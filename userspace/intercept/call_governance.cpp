#include "intercept/call_governance.h"

#include "mask/call_masker.h"

namespace shadowai {

namespace http = boost::beast::http;

namespace {

// The pseudo-rule a refusal names when the policy could not be applied (the call is refused rather
// than sent unmasked).
constexpr std::string_view kMaskingRule = "masking";

RequestGovernance refuse(InterceptedCall& call, unsigned status, std::string_view rule, std::string reason,
                         std::string message) {
  call.outcome = CallOutcome::kBlocked;
  call.status = status;
  call.rule = std::string(rule);
  call.reason = std::move(reason);
  RequestGovernance governance;
  governance.refused = true;
  governance.status = status;
  governance.message = std::move(message);
  return governance;
}

RequestGovernance blockedBy(InterceptedCall& call, const BlockDecision& decision) {
  std::string message = "blocked by policy rule " + decision.ruleId;
  if (!decision.message.empty()) message += ": " + decision.message;
  return refuse(call, 403, decision.ruleId, decision.reason, std::move(message));
}

RequestGovernance cannotMask(InterceptedCall& call, unsigned status, std::string why) {
  std::string message = "the policy requires masking this call and " + why;
  return refuse(call, status, kMaskingRule, message, message);
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

}  // namespace

RequestGovernance governRequest(const InterceptServices& services, const InterceptTarget& target,
                                const ProviderAdapter& adapter, http::request<http::string_body>& request,
                                Result<ParsedRequest>& parsed, InterceptedCall& call) {
  if (!services.policy) return {};
  const std::shared_ptr<const PolicyRuntime> runtime = services.policy->current();
  if (!runtime) return {};

  const CallFacts facts{target.providerId, target.host, std::string(apiKindName(adapter.api())),
                        parsed ? parsed->model : std::string()};
  const CallGovernance governance = runtime->govern(target.workload, facts);
  if (governance.policy.blocked) return blockedBy(call, *governance.policy.blocked);

  const bool readsPrompt = !governance.policy.promptBlockRules.empty() || governance.masksRequest();
  const bool hasBody = !request.body().empty();
  if (readsPrompt && hasBody) {
    // Fail closed: a prompt the adapters cannot read can be neither checked nor masked.
    if (adapter.api() == ApiKind::kUnknown) {
      return cannotMask(call, 403, "shadowai cannot read the prompt of " + std::string(request.method_string()) + " " +
                                        call.path + " on " + target.host);
    }
    if (!parsed) return cannotMask(call, 400, "its body cannot be read: " + parsed.error().describe());
  }
  if (parsed && !governance.policy.promptBlockRules.empty()) {
    if (auto decision = runtime->policy().checkPrompt(governance.policy, parsed->prompt)) {
      return blockedBy(call, *decision);
    }
  }

  RequestGovernance result;
  if (!governance.mask) return result;
  result.session = std::make_shared<MaskSession>(governance.mask, runtime->pseudonymKey());
  result.session->setCpuLimit(services.settings.maxMaskCpu);
  result.masksResponse = governance.masksResponse();
  call.rule = joined(governance.policy.matchedRules);
  if (governance.masksRequest() && hasBody) {
    // Checked above: a body that must be masked was read by the adapter.
    if (!parsed) return cannotMask(call, 400, "its body cannot be read: " + parsed.error().describe());
    auto masked = maskRequestBody(std::move(*parsed), request.body(), *result.session, request.body().capacity());
    if (!masked) return cannotMask(call, 403, "its prompt could not be masked: " + masked.error().describe());
    if (*masked) request.body() = std::move(**masked);
  }
  // Only an identity-encoded answer can be read to be masked.
  if (result.masksResponse) request.set(http::field::accept_encoding, "identity");
  return result;
}

}  // namespace shadowai
