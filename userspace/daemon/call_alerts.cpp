#include "daemon/call_alerts.h"

namespace shadowai {

namespace {

int64_t milliseconds(std::chrono::microseconds duration) { return duration.count() / 1000; }

// "email=2,openai-api-key=1" for one side of the call, "" when nothing fired there.
std::string maskedOn(const InterceptedCall& call, MaskSite site) {
  std::string out;
  for (const DetectorHits& hits : call.masked) {
    if (hits.site != site || hits.count == 0) continue;
    if (!out.empty()) out += ',';
    out += hits.detector + '=' + std::to_string(hits.count);
  }
  return out;
}

// ", 3 values masked" when the policy masked anything.
std::string maskedSummary(const InterceptedCall& call) {
  uint64_t count = 0;
  for (const DetectorHits& hits : call.masked) count += hits.count;
  if (count == 0) return "";
  return ", " + std::to_string(count) + (count == 1 ? " value masked" : " values masked");
}

std::string modelOrUnknown(const InterceptedCall& call) { return call.model.empty() ? "(no model)" : call.model; }

}  // namespace

AlertKind interceptedCallAlertKind(const InterceptedCall& call) {
  switch (call.outcome) {
    case CallOutcome::kForwarded:
      return AlertKind::kLlmCallIntercepted;
    case CallOutcome::kClientTlsFailed:
      return AlertKind::kInterceptTlsFailed;
    case CallOutcome::kBlocked:
      return AlertKind::kLlmCallBlocked;
    case CallOutcome::kRefused:
    case CallOutcome::kUpstreamFailed:
      return AlertKind::kLlmCallRefused;
  }
  return AlertKind::kLlmCallRefused;
}

AlertFields interceptedCallFields(const InterceptedCall& call) {
  AlertFields fields = call.target ? call.target->alertFields : AlertFields{};
  fields.add(AlertField::kAction, toString(call.outcome));
  if (call.outcome == CallOutcome::kClientTlsFailed) {
    fields.add(AlertField::kReason, call.reason);
    return fields;
  }
  fields.add(AlertField::kApi, apiKindName(call.api));
  if (!call.model.empty()) fields.add(AlertField::kModel, call.model);
  fields.add(AlertField::kMethod, call.method);
  fields.add(AlertField::kPath, call.path);
  fields.add(AlertField::kStreaming, call.streaming ? "true" : "false");
  if (call.status != 0) fields.add(AlertField::kStatus, call.status);
  fields.add(AlertField::kCredential, toString(call.credential));
  if (!call.managedKeyLabel.empty()) fields.add(AlertField::kKeyLabel, call.managedKeyLabel);
  if (!call.clientKeyFingerprint.empty()) fields.add(AlertField::kFingerprint, call.clientKeyFingerprint);
  fields.add(AlertField::kRequestBytes, call.requestBytes);
  fields.add(AlertField::kResponseBytes, call.responseBytes);
  if (call.streamedEvents != 0) fields.add(AlertField::kStreamedEvents, call.streamedEvents);
  if (call.usage && call.usage->inputTokens) fields.add(AlertField::kInputTokens, *call.usage->inputTokens);
  if (call.usage && call.usage->outputTokens) fields.add(AlertField::kOutputTokens, *call.usage->outputTokens);
  fields.add(AlertField::kLatencyMs, milliseconds(call.latency));
  if (call.timeToFirstByte.count() != 0) fields.add(AlertField::kFirstByteMs, milliseconds(call.timeToFirstByte));
  if (!call.rule.empty()) fields.add(AlertField::kRule, call.rule);
  uint64_t maskedCount = 0;
  for (const DetectorHits& hits : call.masked) maskedCount += hits.count;
  if (maskedCount != 0) {
    if (std::string request = maskedOn(call, MaskSite::kRequest); !request.empty()) {
      fields.add(AlertField::kMaskedRequest, request);
    }
    if (std::string response = maskedOn(call, MaskSite::kResponse); !response.empty()) {
      fields.add(AlertField::kMaskedResponse, response);
    }
    fields.add(AlertField::kMaskedCount, maskedCount);
  }
  if (!call.reason.empty()) fields.add(AlertField::kReason, call.reason);
  return fields;
}

std::string interceptedCallMessage(const InterceptedCall& call) {
  const std::string host = call.target ? call.target->host : std::string("?");
  const std::string workload = call.target && !call.target->alertFields.empty() && call.target->alertFields.find(AlertField::kWorkload)
                                   ? *call.target->alertFields.find(AlertField::kWorkload)
                                   : std::string("an enforced workload");
  switch (call.outcome) {
    case CallOutcome::kForwarded:
      return workload + " called " + host + " " + call.method + " " + call.path + " (" + modelOrUnknown(call) +
             "): " + std::to_string(call.status) + ", " + std::to_string(milliseconds(call.latency)) + " ms, key " +
             std::string(toString(call.credential)) + maskedSummary(call);
    case CallOutcome::kClientTlsFailed:
      return workload + " did not complete TLS with the proxy for " + host + ": " + call.reason;
    case CallOutcome::kBlocked:
      return "call of " + workload + " to " + host + " " + call.method + " " + call.path + " blocked by policy rule " +
             call.rule + ": " + call.reason;
    case CallOutcome::kRefused:
    case CallOutcome::kUpstreamFailed:
      return "call of " + workload + " to " + host + " " + call.method + " " + call.path + " answered by shadowai" +
             (call.status != 0 ? " with " + std::to_string(call.status) : std::string()) + ": " + call.reason;
  }
  return "intercepted call";
}

Status alertInterceptedCall(AlertSink& alerts, const InterceptedCall& call) {
  return alerts.send(interceptedCallAlertKind(call), interceptedCallMessage(call), interceptedCallFields(call));
}

}  // namespace shadowai
