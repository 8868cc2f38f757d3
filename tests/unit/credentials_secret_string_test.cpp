#include "credentials/secret_string.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>

#include "observe/env_keys.h"

namespace shadowai {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SecretString, DescribeShowsAFingerprintNotTheValue) {
  SecretString secret("sk-live-TOPSECRET-0123456789");
  EXPECT_EQ(secret.describe(), "<secret " + keyFingerprint("sk-live-TOPSECRET-0123456789") + ">");
  EXPECT_THAT(secret.describe(), Not(HasSubstr("TOPSECRET")));
  EXPECT_EQ(secret.fingerprint(), keyFingerprint("sk-live-TOPSECRET-0123456789"));
  EXPECT_EQ(SecretString().describe(), "<empty secret>");
}

TEST(SecretString, CopiesAndMovesKeepTheValueAndEmptyTheSource) {
  SecretString original("sk-abc");
  SecretString copy = original;
  EXPECT_EQ(copy.reveal(), "sk-abc");
  EXPECT_TRUE(copy == original);
  SecretString moved = std::move(original);
  EXPECT_EQ(moved.reveal(), "sk-abc");
  EXPECT_TRUE(original.empty());  // NOLINT(bugprone-use-after-move): a moved-from secret is wiped
  SecretString assigned("other");
  assigned = std::move(moved);
  EXPECT_EQ(assigned.reveal(), "sk-abc");
  EXPECT_FALSE(assigned == SecretString("sk-abd"));
}

TEST(SecretString, WipeStringZeroesTheBufferItKeeps) {
  std::string text = "a fairly long value that lives on the heap, not in the small buffer";
  text.resize(4);  // the tail is still in the buffer
  const char* buffer = text.data();
  size_t capacity = text.capacity();
  wipeString(text);
  EXPECT_TRUE(text.empty());
  ASSERT_EQ(text.data(), buffer);
  for (size_t i = 0; i < capacity; ++i) EXPECT_EQ(buffer[i], '\0') << i;
}

}  // namespace
}  // namespace shadowai
