#include "audit/alerter.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

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

Alerter::Alerter(AlerterOptions options) : options_(std::move(options)), clock_([] { return Clock::now(); }) {
  if (options_.rateLimit) limiter_.emplace(*options_.rateLimit);
}

Status Alerter::send(AlertKind kind, std::string_view message, const AlertFields& fields) {
  // A malformed alert is the caller's bug: refuse it before it spends a token.
  if (auto checked = checkCallerFields(kind, fields); !checked) return checked;
  std::lock_guard lock(mutex_);
  uint64_t suppressed = 0;
  if (limiter_ && !alertKindInfo(kind).everyEvent) {
    auto admission = limiter_->admit(kind, clock_());
    if (!admission.admitted) return {};
    suppressed = admission.suppressedBefore;
  }
  auto items = alertJournalItems(kind, message, fields, suppressed);
  if (!items) {
    if (limiter_ && suppressed > 0) limiter_->restoreSuppressed(kind, suppressed);
    return items.error();
  }
  if (options_.copyToStderr) {
    const std::string line = alertStderrLine(kind, message, suppressed);
    // One write per line, so lines of concurrent writers never interleave; a full or closed stderr
    // must not stop the alert from reaching the journal.
    [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  }
  std::vector<iovec> vectors;
  vectors.reserve(items->size());
  for (auto& item : *items) vectors.push_back(iovec{item.data(), item.size()});
  const int sent = sd_journal_sendv(vectors.data(), static_cast<int>(vectors.size()));
  if (sent < 0) {
    if (limiter_ && suppressed > 0) limiter_->restoreSuppressed(kind, suppressed);
    return makeError("cannot write alert " + std::string(alertKindInfo(kind).name) + " to journald", -sent);
  }
  return {};
}

uint64_t Alerter::suppressedCount(AlertKind kind) const {
  std::lock_guard lock(mutex_);
  return limiter_ ? limiter_->totalSuppressed(kind) : 0;
}

void Alerter::setClockForTest(std::function<Clock::time_point()> clock) {
  std::lock_guard lock(mutex_);
  clock_ = std::move(clock);
}

}  // namespace shadowai
