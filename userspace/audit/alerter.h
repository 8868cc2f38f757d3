// Alerter: writes shadowaid's alerts to journald as structured entries (one MESSAGE_ID per kind,
// SYSLOG_IDENTIFIER=shadowaid, PRIORITY per kind, a one-line MESSAGE, SHADOWAI_* fields), rate
// limited per kind, from a thread of its own, and optionally echoes a human line to stderr for
// foreground runs. Thread-safe: the proxy's threads and the detection loop share one Alerter.
//
// Callers never pass secrets (see alert_fields.h): fingerprints, not keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/alert_fields.h"
#include "audit/alert_kind.h"
#include "audit/alert_rate_limiter.h"
#include "audit/alert_sink.h"
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
  // Alerts waiting for the writer thread. While journald is slow or stopped the queue fills; an alert
  // that finds it full is counted as lost instead of waiting (4096 call records are a few MiB).
  size_t queueCapacity = 4096;
};

// What became of the alerts sent since start. Every alert admitted by the rate limiter ends up in
// exactly one of delivered, lostQueueFull and lostRefused, or is still queued; a malformed one is
// rejected before the rate limiter sees it.
struct AlertDeliveryCounts {
  uint64_t delivered = 0;
  uint64_t queued = 0;         // waiting for the writer now
  uint64_t lostQueueFull = 0;  // dropped because the queue was full (journald too slow, or stopped)
  uint64_t lostRefused = 0;    // journald did not take them (not running)
  uint64_t lostCallRecords = 0;  // of the lost ones, records of intercepted calls (every-event kinds)
  uint64_t lostReports = 0;      // alerts-lost entries delivered, each saying how many were lost before it
  uint64_t rejectedMalformed = 0;  // refused by send(): a caller set a reserved field (a bug in shadowaid)
};

// Alerts leave the caller's thread at once: send() formats the entry, queues it and returns, and one
// writer thread hands entries to journald. journald that stops reading (stuck on a slow disk, paused,
// restarting) blocks only that thread, never a proxy thread; when the queue is full an alert is
// counted as lost, and once journald takes entries again one alerts-lost entry says how many were
// lost (and how many of them were call records) since the previous report.
class Alerter final : public AlertSink {
 public:
  using Clock = AlertRateLimiter::Clock;

  explicit Alerter(AlerterOptions options = {});
  // Delivers what is queued, for at most kStopDrainTime (journald may be the reason it is queued),
  // then stops the writer.
  ~Alerter() override;
  Alerter(const Alerter&) = delete;
  Alerter& operator=(const Alerter&) = delete;

  static constexpr std::chrono::seconds kStopDrainTime{3};

  // Queues one entry and returns without waiting for journald; an alert the rate limiter drops, or
  // that finds the queue full, is counted and is not an error. Fails (one line) only when the fields
  // break the rules (a reserved field set by the caller); nothing is queued then, and the failure is
  // counted (rejectedMalformed) and logged to stderr here, naming the kind and the field but no
  // value, without waiting for journald. So a caller with nothing better to do may drop the Status.
  // On a host with no journald socket at all libsystemd drops entries silently, by design: run with
  // copyToStderr there.
  Status send(AlertKind kind, std::string_view message, const AlertFields& fields = {}) override;

  // Waits until every alert queued before the call was handed to journald (or counted lost), at
  // most TIMEOUT; false on timeout.
  bool flush(std::chrono::milliseconds timeout);

  AlertDeliveryCounts deliveryCounts() const;

  // Alerts of KIND dropped by the rate limiter since start.
  uint64_t suppressedCount(AlertKind kind) const;

  // Replaces the rate limiter's clock.
  void setClockForTest(std::function<Clock::time_point()> clock);

 private:
  struct Shared;
  static void writeAlerts(const std::shared_ptr<Shared>& shared, bool copyToStderr);
  // Counts and logs an alert refused as malformed; returns ERROR for send() to return.
  Status reject(Error error);

  AlerterOptions options_;
  mutable std::mutex limiterMutex_;
  std::optional<AlertRateLimiter> limiter_;
  std::function<Clock::time_point()> clock_;
  // The queue and counters, shared with the writer thread: if journald never comes back the writer
  // cannot be joined, and is left behind holding them.
  std::shared_ptr<Shared> shared_;
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
