// The daemon-wide bound on body memory: shares are reserved whole or not at all, come back when a
// call ends (or keeps only its body), and never let the total pass the limit.
#include "intercept/body_budget.h"

#include <gtest/gtest.h>

#include <utility>

namespace shadowai {
namespace {

TEST(BodyBudget, ReservesPerBodyByteAndRefusesWhatDoesNotFit) {
  BodyBudget budget(100 * kHeldBytesPerBodyByte);
  auto first = budget.lease();
  EXPECT_TRUE(first.holdBody(60));
  EXPECT_EQ(budget.inUse(), 60 * kHeldBytesPerBodyByte);
  auto second = budget.lease();
  EXPECT_FALSE(second.holdBody(41)) << "60 + 41 body bytes do not fit in 100";
  EXPECT_EQ(second.bytes(), 0u) << "a refused reservation takes nothing";
  EXPECT_EQ(budget.refusals(), 1u);
  EXPECT_TRUE(second.holdBody(40));
  EXPECT_EQ(budget.inUse(), budget.limit());
  // Growing is by the difference; a smaller body than held changes nothing.
  EXPECT_TRUE(first.holdBody(10));
  EXPECT_EQ(first.bytes(), 60 * kHeldBytesPerBodyByte);
  EXPECT_FALSE(first.holdBody(61));
}

TEST(BodyBudget, SharesComeBackWhenTheCallEndsOrKeepsOnlyItsBody) {
  BodyBudget budget(1000);
  {
    auto lease = budget.lease();
    ASSERT_TRUE(lease.holdBody(100));
    lease.keepOnly(100);
    EXPECT_EQ(budget.inUse(), 100u);
    BodyBudget::Lease moved = std::move(lease);
    EXPECT_EQ(budget.inUse(), 100u) << "a move hands the share over, it does not copy or drop it";
    EXPECT_EQ(lease.bytes(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  }
  EXPECT_EQ(budget.inUse(), 0u);
}

TEST(BodyBudget, ALeaseWithoutABudgetAlwaysFitsAndHugeBodiesDoNotOverflow) {
  BodyBudget::Lease unbounded;
  EXPECT_TRUE(unbounded.holdBody(UINT64_MAX));
  BodyBudget budget(1 << 20);
  auto lease = budget.lease();
  EXPECT_FALSE(lease.holdBody(UINT64_MAX / 2)) << "body bytes times the factor must not wrap around";
  EXPECT_EQ(budget.inUse(), 0u);
  EXPECT_EQ(BodyBudget::defaultLimit(1ull << 30), 256ull << 20) << "at least 256 MiB";
  EXPECT_EQ(BodyBudget::defaultLimit(24ull << 30), 3ull << 30) << "an eighth of the host's memory";
}

}  // namespace
}  // namespace shadowai
