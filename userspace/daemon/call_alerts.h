// The journald entries of intercepted calls: one llm-call-intercepted per forwarded call (the audit
// record), llm-call-refused when shadowai answered instead, intercept-tls-failed for a workload that
// would not complete TLS with the proxy. Keys appear only as labels and fingerprints.
#pragma once

#include "audit/alert_sink.h"
#include "intercept/intercepted_call.h"

namespace shadowai {

AlertFields interceptedCallFields(const InterceptedCall& call);
std::string interceptedCallMessage(const InterceptedCall& call);
AlertKind interceptedCallAlertKind(const InterceptedCall& call);

// The three together; a failure to write is returned (the caller counts it), never thrown.
Status alertInterceptedCall(AlertSink& alerts, const InterceptedCall& call);

}  // namespace shadowai
