// InterceptedCall: the record of one request an intercepted connection carried (or of a client that
// would not complete the TLS handshake), for the call's alert. Never holds a credential: the
// managed key is named by its label, the client's by a fingerprint.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "intercept/intercept_target.h"
#include "mask/mask_session.h"
#include "providers/provider_call.h"

namespace shadowai {

enum class CallOutcome {
  kForwarded,        // the provider's answer went to the client (whatever its status)
  kRefused,          // shadowai answered instead (limits, credentials): `status` and `reason` say why
  kBlocked,          // the policy refused it (a block rule, or text that could not be masked): `rule`, `reason`
  kUpstreamFailed,   // the provider could not be reached or failed: 502/504 (or the stream was cut)
  kClientTlsFailed,  // the client did not complete the TLS handshake (e.g. it does not trust our CA)
};

std::string_view toString(CallOutcome outcome);

// Whose credential went upstream.
enum class CallCredential {
  kNone,     // nothing was sent: the client sent none and no managed key applies
  kManaged,  // the managed key (the client's, if any, was removed)
  kClient,   // the client's own (pass-through mode)
};

std::string_view toString(CallCredential credential);

struct InterceptedCall {
  std::shared_ptr<const InterceptTarget> target;
  CallOutcome outcome = CallOutcome::kForwarded;
  std::string method;
  std::string path;  // the request target without its query (which may hold a key)
  ApiKind api = ApiKind::kUnknown;
  std::string model;
  bool streaming = false;
  unsigned status = 0;  // the HTTP status the client got; 0 when it got none
  std::string reason;   // refusals and failures: one line; for the client too
  CallCredential credential = CallCredential::kNone;
  std::string managedKeyLabel;        // which managed key, when kManaged
  std::string clientKeyFingerprint;   // what the client sent, when it sent something
  uint64_t requestBytes = 0;          // the request body as received
  uint64_t responseBytes = 0;         // the response body as the provider sent it
  uint64_t streamedEvents = 0;        // SSE events relayed
  std::optional<Usage> usage;
  std::chrono::microseconds latency{0};          // request read -> response complete
  std::chrono::microseconds timeToFirstByte{0};  // request read -> response header from the provider
  // Policy: the rule that blocked the call, or the mask rules that applied (comma-separated).
  std::string rule;
  std::vector<DetectorHits> masked;  // what the masker replaced, by detector and side: counts only
};

// Called on a proxy worker thread, concurrently from several: thread-safe, quick, no throw.
using InterceptedCallSink = std::function<void(const InterceptedCall&)>;

}  // namespace shadowai
