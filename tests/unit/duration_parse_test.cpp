#include "common/duration_parse.h"

#include <gtest/gtest.h>

namespace shadowai {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsUnits) {
  EXPECT_EQ(*parseDuration("30s"), 30s);
  EXPECT_EQ(*parseDuration("30"), 30s);
  EXPECT_EQ(*parseDuration("500ms"), 500ms);
  EXPECT_EQ(*parseDuration("2m"), 2min);
  EXPECT_EQ(*parseDuration("1h"), 1h);
}

TEST(ParseDuration, RejectsWithAReason) {
  for (const char* bad : {"", "s", "-5s", "10parsecs", "0s", "1.5s", "9999999999999h"}) {
    auto parsed = parseDuration(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message.find("bad duration"), std::string::npos) << parsed.error().message;
  }
}

}  // namespace
}  // namespace shadowai
