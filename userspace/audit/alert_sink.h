// AlertSink: where the parts that decide something send the alert a user reviews. The daemon runs
// them with its Alerter (journald); unit tests hand them a sink that keeps what it got, so the alert
// a user would see can be checked without journald or root.
#pragma once

#include <string_view>

#include "audit/alert_fields.h"
#include "audit/alert_kind.h"
#include "common/result.h"

namespace shadowai {

class AlertSink {
 public:
  virtual ~AlertSink() = default;

  // Thread-safe: proxy threads and the event loop share one sink. Fails only when FIELDS break the
  // rules (a reserved field); an alert dropped by a rate limit or a full queue is not an error.
  virtual Status send(AlertKind kind, std::string_view message, const AlertFields& fields) = 0;
};

}  // namespace shadowai
