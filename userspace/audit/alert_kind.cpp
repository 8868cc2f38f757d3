#include "audit/alert_kind.h"

namespace shadowai {
namespace {

// The table is checked when it is compiled, so a mistyped id or a kind added out of order never
// reaches a journal.
constexpr bool inEnumOrder() {
  for (size_t i = 0; i < kAlertKinds.size(); ++i) {
    if (static_cast<size_t>(kAlertKinds[i].kind) != i) return false;
  }
  return true;
}

constexpr bool isMessageId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

constexpr bool isKebabName(std::string_view name) {
  if (name.empty() || name.front() == '-' || name.back() == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

constexpr bool wellFormedAndUnique() {
  for (size_t i = 0; i < kAlertKinds.size(); ++i) {
    const auto& kind = kAlertKinds[i];
    if (!isMessageId(kind.messageId) || !isKebabName(kind.name)) return false;
    if (kind.priority < LOG_EMERG || kind.priority > LOG_DEBUG) return false;
    for (size_t j = i + 1; j < kAlertKinds.size(); ++j) {
      if (kAlertKinds[j].messageId == kind.messageId || kAlertKinds[j].name == kind.name) return false;
    }
  }
  return true;
}

static_assert(inEnumOrder(), "kAlertKinds must list the kinds in enum order");
static_assert(kAlertKinds.back().kind == AlertKind::kAlertsLost, "a kind is missing from kAlertKinds");
static_assert(wellFormedAndUnique(), "alert kinds need unique kebab-case names and unique 128-bit hex ids");

}  // namespace

std::optional<AlertKind> alertKindFromName(std::string_view name) {
  for (const auto& info : kAlertKinds) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

std::string_view priorityName(int priority) {
  switch (priority) {
    case LOG_EMERG: return "emerg";
    case LOG_ALERT: return "alert";
    case LOG_CRIT: return "crit";
    case LOG_ERR: return "err";
    case LOG_WARNING: return "warning";
    case LOG_NOTICE: return "notice";
    case LOG_INFO: return "info";
    case LOG_DEBUG: return "debug";
    default: return "unknown";
  }
}

}  // namespace shadowai
