// An alert that shadowaid builds wrong (a reserved field set by its caller) is refused, counted
// where `shadowai status` reads the alert counters, and logged to stderr in one line that names the
// kind and the field but repeats no value. No journald is needed: nothing reaches the queue.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "audit/alerter.h"

namespace shadowai {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecretLookingValue = "sk-proj-DoNotRepeatThisValue0123456789";

TEST(AlerterRejection, MalformedAlertIsCountedAndLoggedWithoutItsValues) {
  Alerter alerter(AlerterOptions{std::nullopt, false});
  testing::internal::CaptureStderr();
  Status sent = alerter.send(AlertKind::kLlmCallDetected, std::string("called with ") + kSecretLookingValue,
                             AlertFields().add(AlertField::kAlert, kSecretLookingValue));
  const std::string logged = testing::internal::GetCapturedStderr();

  ASSERT_FALSE(sent.ok());
  EXPECT_THAT(sent.error().message, HasSubstr("SHADOWAI_ALERT is set by the Alerter"));
  const AlertDeliveryCounts counts = alerter.deliveryCounts();
  EXPECT_EQ(counts.rejectedMalformed, 1u);
  EXPECT_EQ(counts.queued + counts.delivered + counts.lostQueueFull + counts.lostRefused, 0u);
  EXPECT_EQ(logged, "shadowaid: alert not sent: " + sent.error().message + "\n");
  EXPECT_THAT(logged, HasSubstr("llm-call-detected"));
  EXPECT_THAT(logged, Not(HasSubstr(kSecretLookingValue)));
}

}  // namespace
}  // namespace shadowai
