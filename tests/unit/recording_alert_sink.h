// An AlertSink that keeps each alert as the journal entry a user would read back with
// `journalctl -o json`: MESSAGE_ID, PRIORITY, MESSAGE, SHADOWAI_ALERT and the SHADOWAI_* fields,
// made by the same alertJournalItems() the Alerter sends to journald. A field the kind does not
// declare (alertKindFields, the catalog's promise to users) fails the test that sent it.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "audit/alert_sink.h"
#include "audit/alerter.h"

namespace shadowai {

using JournalEntry = std::map<std::string, std::string>;

class RecordingAlertSink final : public AlertSink {
 public:
  Status send(AlertKind kind, std::string_view message, const AlertFields& fields) override {
    for (const auto& [field, value] : fields.entries()) {
      EXPECT_TRUE(alertKindMayCarry(kind, field))
          << alertKindInfo(kind).name << " does not declare " << alertFieldName(field);
    }
    auto items = alertJournalItems(kind, message, fields, 0);
    if (!items) return items.error();
    JournalEntry entry;
    for (const std::string& item : *items) {
      const size_t equals = item.find('=');
      entry[item.substr(0, equals)] = item.substr(equals + 1);
    }
    std::lock_guard lock(mutex_);
    entries_.push_back(std::move(entry));
    return {};
  }

  std::vector<JournalEntry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<JournalEntry> entries_;
};

}  // namespace shadowai
