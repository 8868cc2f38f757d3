#include "audit/alerter.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "common/stderr_without_waiting.h"

namespace shadowai {
namespace {

// Length of the valid UTF-8 sequence starting TEXT[AT] and its code point, or 0 when invalid
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t decodeUtf8(std::string_view text, size_t at, uint32_t& codePoint) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  size_t length;
  uint32_t minimum;
  if (lead < 0x80) {
    codePoint = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    minimum = 0x80;
    codePoint = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    minimum = 0x800;
    codePoint = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    minimum = 0x10000;
    codePoint = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    codePoint = (codePoint << 6) | (byte(at + i) & 0x3F);
  }
  if (codePoint < minimum || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF)) return 0;
  return length;
}

bool isControl(uint32_t codePoint) { return codePoint < 0x20 || (codePoint >= 0x7F && codePoint <= 0x9F); }

Status checkCallerFields(AlertKind kind, const AlertFields& fields) {
  for (const auto& entry : fields.entries()) {
    if (isReservedAlertField(entry.first)) {
      return makeError("alert " + std::string(alertKindInfo(kind).name) + ": " +
                       std::string(alertFieldName(entry.first)) + " is set by the Alerter, not by its caller");
    }
  }
  return {};
}

std::string itemOf(std::string_view name, std::string_view value) {
  std::string item;
  item.reserve(name.size() + 1 + value.size());
  item.append(name).append("=").append(value);
  return item;
}

}  // namespace

std::string oneLineAlertMessage(std::string_view message, AlertKind kind) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string line;
  line.reserve(std::min(message.size(), kMaxAlertMessageBytes));
  size_t at = 0;
  while (at < message.size()) {
    uint32_t codePoint = 0;
    size_t length = decodeUtf8(message, at, codePoint);
    std::string_view piece;
    if (length == 0) {
      piece = kReplacement;
      length = 1;
    } else if (isControl(codePoint) || codePoint == ' ') {
      piece = " ";
    } else {
      piece = message.substr(at, length);
    }
    at += length;
    if (piece == " " && (line.empty() || line.back() == ' ')) continue;  // trim the front, collapse runs
    if (line.size() + piece.size() > kMaxAlertMessageBytes) break;
    line.append(piece);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  if (line.empty()) line = alertKindInfo(kind).name;
  return line;
}

Result<std::vector<std::string>> alertJournalItems(AlertKind kind, std::string_view message, const AlertFields& fields,
                                                   uint64_t suppressed) {
  if (auto checked = checkCallerFields(kind, fields); !checked) return checked.error();
  const AlertKindInfo& info = alertKindInfo(kind);
  std::vector<std::string> items;
  items.reserve(6 + fields.entries().size());
  items.push_back(itemOf("MESSAGE_ID", info.messageId));
  items.push_back(itemOf("PRIORITY", std::to_string(info.priority)));
  items.push_back(itemOf("SYSLOG_IDENTIFIER", kAlertSyslogIdentifier));
  items.push_back(itemOf("MESSAGE", oneLineAlertMessage(message, kind)));
  items.push_back(itemOf(alertFieldName(AlertField::kAlert), info.name));
  if (suppressed > 0) items.push_back(itemOf(alertFieldName(AlertField::kSuppressed), std::to_string(suppressed)));
  for (const auto& [field, value] : fields.entries()) {
    // Values may hold newlines or any byte: sd_journal_sendv sends those in journald's
    // length-prefixed binary form.
    items.push_back(itemOf(alertFieldName(field), value));
  }
  return items;
}

std::string alertStderrLine(AlertKind kind, std::string_view message, uint64_t suppressed) {
  const AlertKindInfo& info = alertKindInfo(kind);
  std::string line = std::string(kAlertSyslogIdentifier) + ": " + std::string(priorityName(info.priority)) + ": " +
                     std::string(info.name) + ": " + oneLineAlertMessage(message, kind);
  if (suppressed > 0) line += " (" + std::to_string(suppressed) + " similar suppressed)";
  return line + "\n";
}

bool stderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat status {};
  if (::fstat(STDERR_FILENO, &status) != 0) return false;
  return status.st_dev == device && status.st_ino == inode;
}

// The queue and counters, shared by the Alerter and its writer thread.
struct Alerter::Shared {
  struct Entry {
    std::vector<std::string> items;
    std::string stderrLine;  // empty unless copyToStderr
    bool callRecord = false;
  };

  explicit Shared(size_t capacityIn) : capacity(capacityIn) {}

  const size_t capacity;
  std::mutex mutex;
  std::condition_variable wake;     // the writer: entries queued, or stopping
  std::condition_variable progress;  // flush() and the destructor: the writer finished a batch
  std::deque<Entry> queue;
  bool stopping = false;
  bool writerDone = false;
  uint64_t enqueued = 0;  // entries ever queued
  uint64_t finished = 0;  // of those, handed to journald or counted lost
  AlertDeliveryCounts counts;
  // Lost since the last alerts-lost entry journald took.
  uint64_t lostSinceReport = 0;
  uint64_t lostCallRecordsSinceReport = 0;

  void countLost(bool callRecord) {
    ++lostSinceReport;
    if (callRecord) {
      ++lostCallRecordsSinceReport;
      ++counts.lostCallRecords;
    }
  }
};

namespace {

// While alerts were lost and not yet reported, how often the writer tries to tell journald.
constexpr std::chrono::seconds kLostReportRetry{1};

// 0 when journald took the entry, else -errno.
int sendToJournal(std::vector<std::string>& items) {
  std::vector<iovec> vectors;
  vectors.reserve(items.size());
  for (auto& item : items) vectors.push_back(iovec{item.data(), item.size()});
  return sd_journal_sendv(vectors.data(), static_cast<int>(vectors.size()));
}

// The alerts-lost entry for LOST alerts, CALL_RECORDS of them records of calls.
std::vector<std::string> lostReportItems(uint64_t lost, uint64_t callRecords) {
  const std::string message = "shadowaid lost " + std::to_string(lost) + " alert" + (lost == 1 ? "" : "s") + " (" +
                              std::to_string(callRecords) + " call record" + (callRecords == 1 ? "" : "s") +
                              ") that journald did not take in time; shadowai status shows the totals";
  auto items = alertJournalItems(AlertKind::kAlertsLost, message,
                                 AlertFields()
                                     .add(AlertField::kLostAlerts, std::to_string(lost))
                                     .add(AlertField::kLostCallRecords, std::to_string(callRecords)),
                                 0);
  return items ? std::move(*items) : std::vector<std::string>{};
}

}  // namespace

Alerter::Alerter(AlerterOptions options)
    : options_(std::move(options)),
      clock_([] { return Clock::now(); }),
      shared_(std::make_shared<Shared>(std::max<size_t>(1, options_.queueCapacity))) {
  if (options_.rateLimit) limiter_.emplace(*options_.rateLimit);
  std::thread(writeAlerts, shared_, options_.copyToStderr).detach();
}

Alerter::~Alerter() {
  std::unique_lock lock(shared_->mutex);
  shared_->stopping = true;
  shared_->wake.notify_all();
  // A writer still blocked in journald after this is left behind (detached) with the shared state;
  // the process is about to exit.
  shared_->progress.wait_for(lock, kStopDrainTime, [&] { return shared_->writerDone; });
}

Status Alerter::send(AlertKind kind, std::string_view message, const AlertFields& fields) {
  // A malformed alert is the caller's bug: refuse it before it spends a token.
  if (auto checked = checkCallerFields(kind, fields); !checked) return reject(checked.error());
  const AlertKindInfo& info = alertKindInfo(kind);
  uint64_t suppressed = 0;
  if (limiter_ && !info.everyEvent) {
    std::lock_guard lock(limiterMutex_);
    auto admission = limiter_->admit(kind, clock_());
    if (!admission.admitted) return {};
    suppressed = admission.suppressedBefore;
  }
  auto items = alertJournalItems(kind, message, fields, suppressed);
  if (!items) {
    if (limiter_ && suppressed > 0) {
      std::lock_guard lock(limiterMutex_);
      limiter_->restoreSuppressed(kind, suppressed);
    }
    return reject(items.error());
  }
  Shared::Entry entry{std::move(*items), {}, info.everyEvent};
  if (options_.copyToStderr) entry.stderrLine = alertStderrLine(kind, message, suppressed);

  std::lock_guard lock(shared_->mutex);
  if (shared_->queue.size() >= shared_->capacity) {
    ++shared_->counts.lostQueueFull;
    shared_->countLost(entry.callRecord);
    return {};
  }
  shared_->queue.push_back(std::move(entry));
  ++shared_->enqueued;
  shared_->wake.notify_one();
  return {};
}

Status Alerter::reject(Error error) {
  {
    std::lock_guard lock(shared_->mutex);
    ++shared_->counts.rejectedMalformed;
  }
  // ERROR names the kind and the field only: a value a caller put where it does not belong is not
  // repeated anywhere. Not through the writer thread, which may be stuck in journald for long.
  writeStderrLineWithoutWaiting(std::string(kAlertSyslogIdentifier) + ": alert not sent: " + error.message);
  return error;
}

bool Alerter::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(shared_->mutex);
  const uint64_t target = shared_->enqueued;
  return shared_->progress.wait_for(lock, timeout,
                                    [&] { return shared_->finished >= target || shared_->writerDone; }) &&
         shared_->finished >= target;
}

AlertDeliveryCounts Alerter::deliveryCounts() const {
  std::lock_guard lock(shared_->mutex);
  AlertDeliveryCounts counts = shared_->counts;
  counts.queued = shared_->enqueued - shared_->finished;
  return counts;
}

uint64_t Alerter::suppressedCount(AlertKind kind) const {
  std::lock_guard lock(limiterMutex_);
  return limiter_ ? limiter_->totalSuppressed(kind) : 0;
}

void Alerter::setClockForTest(std::function<Clock::time_point()> clock) {
  std::lock_guard lock(limiterMutex_);
  clock_ = std::move(clock);
}

// Takes what is queued, hands it to journald (where it may block as long as journald does not read),
// and reports losses once journald takes entries again.
void Alerter::writeAlerts(const std::shared_ptr<Shared>& shared, bool copyToStderr) {
  std::unique_lock lock(shared->mutex);
  for (;;) {
    if (shared->queue.empty()) {
      if (shared->stopping) break;
      if (shared->lostSinceReport > 0) {
        shared->wake.wait_for(lock, kLostReportRetry);
      } else {
        shared->wake.wait(lock);
      }
    }
    std::deque<Shared::Entry> batch;
    batch.swap(shared->queue);
    lock.unlock();

    uint64_t delivered = 0;
    std::vector<bool> refusedCallRecords;  // one per entry journald did not take
    bool lastTaken = true;
    for (auto& entry : batch) {
      if (copyToStderr) {
        // One write per line, so lines never interleave with other output; a full or closed stderr
        // must not stop the alert from reaching the journal.
        [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, entry.stderrLine.data(), entry.stderrLine.size());
      }
      lastTaken = sendToJournal(entry.items) >= 0;
      if (lastTaken) {
        ++delivered;
      } else {
        refusedCallRecords.push_back(entry.callRecord);
      }
    }

    lock.lock();
    shared->counts.delivered += delivered;
    shared->counts.lostRefused += refusedCallRecords.size();
    for (bool callRecord : refusedCallRecords) shared->countLost(callRecord);
    shared->finished += batch.size();
    shared->progress.notify_all();
    // journald is back when it took the last entry; with nothing sent (a retry), the report tells.
    if (shared->lostSinceReport > 0 && lastTaken) {
      const uint64_t lost = shared->lostSinceReport;
      const uint64_t callRecords = shared->lostCallRecordsSinceReport;
      lock.unlock();
      std::vector<std::string> report = lostReportItems(lost, callRecords);
      const bool reported = !report.empty() && sendToJournal(report) >= 0;
      lock.lock();
      if (reported) {
        shared->lostSinceReport -= lost;
        shared->lostCallRecordsSinceReport -= callRecords;
        ++shared->counts.lostReports;
      }
    }
  }
  shared->writerDone = true;
  shared->progress.notify_all();
}

}  // namespace shadowai
