// Alerter: writes shadowaid's alerts to journald as structured entries (one MESSAGE_ID per kind,
// SYSLOG_IDENTIFIER=shadowaid, PRIORITY per kind, a one-line MESSAGE, SHADOWAI_* fields), rate
// limited per kind, and optionally echoes a human line to stderr for foreground runs.
// Thread-safe: the proxy's threads and the detection loop share one Alerter.
//
// Callers never pass secrets (see alert_fields.h): fingerprints, not keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/alert_fields.h"
#include "audit/alert_kind.h"
#include "audit/alert_rate_limiter.h"
#include "common/result.h"

namespace shadowai {

inline constexpr std::string_view kAlertSyslogIdentifier = "shadowaid";
// MESSAGE is for people; a longer one is cut (at a UTF-8 boundary).
inline constexpr size_t kMaxAlertMessageBytes = 1024;

struct AlerterOptions {
  // nullopt: no limit.
  std::optional<AlertRateLimit> rateLimit = AlertRateLimit{};
  // Also write "shadowaid: <priority>: <kind>: <message>" to stderr. Leave it off under systemd
  // (stderrIsJournal()), where it would put every alert in the journal twice.
  bool copyToStderr = false;
};

class Alerter {
 public:
  using Clock = AlertRateLimiter::Clock;

  explicit Alerter(AlerterOptions options = {});

  // Writes one entry; an alert the rate limiter drops is counted and is not an error. Fails (one
  // line, with errno) when journald does not take it (its socket is there but nobody serves it) or
  // the fields break the rules (a reserved field set by the caller); nothing is written then. On a
  // host with no journald socket at all libsystemd drops entries silently, by design: run with
  // copyToStderr there.
  Status send(AlertKind kind, std::string_view message, const AlertFields& fields = {});

  // Alerts of KIND dropped by the rate limiter since start.
  uint64_t suppressedCount(AlertKind kind) const;

  // Replaces the rate limiter's clock.
  void setClockForTest(std::function<Clock::time_point()> clock);

 private:
  AlerterOptions options_;
  mutable std::mutex mutex_;
  std::optional<AlertRateLimiter> limiter_;
  std::function<Clock::time_point()> clock_;
};

// MESSAGE as journald should get it: one line of valid UTF-8. Control characters (newlines, tabs,
// escapes) become single spaces, invalid UTF-8 becomes U+FFFD, surrounding space is trimmed and the
// text is cut at kMaxAlertMessageBytes. An empty result becomes the kind's name.
std::string oneLineAlertMessage(std::string_view message, AlertKind kind);

// The "NAME=value" items of one journal entry, in the order they are sent: MESSAGE_ID, PRIORITY,
// SYSLOG_IDENTIFIER, MESSAGE, SHADOWAI_ALERT, SHADOWAI_SUPPRESSED (when SUPPRESSED > 0), then the
// caller's fields. Fails if the caller set a reserved field.
Result<std::vector<std::string>> alertJournalItems(AlertKind kind, std::string_view message, const AlertFields& fields,
                                                   uint64_t suppressed);

// The stderr echo: "shadowaid: warning: llm-call-detected: <message> (3 similar suppressed)\n".
std::string alertStderrLine(AlertKind kind, std::string_view message, uint64_t suppressed);

// True when stderr is a journald stream (systemd sets $JOURNAL_STREAM to its device:inode), i.e. a
// line written there lands in the journal anyway.
bool stderrIsJournal();

}  // namespace shadowai
