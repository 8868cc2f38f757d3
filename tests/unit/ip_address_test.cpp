#include "net/ip_address.h"

#include <gtest/gtest.h>

namespace shadowai {
namespace {

TEST(IpAddress, ParsesAndFormatsV4AsMapped) {
  auto address = IpAddress::parse("127.0.0.2");
  ASSERT_TRUE(address);
  EXPECT_TRUE(address->isV4());
  EXPECT_TRUE(address->isLoopback());
  EXPECT_EQ(address->toString(), "127.0.0.2");
  EXPECT_EQ(formatEndpoint(*address, 443), "127.0.0.2:443");
}

TEST(IpAddress, V4MappedV6EqualsV4) {
  EXPECT_EQ(IpAddress::parse("::ffff:10.1.2.3"), IpAddress::parse("10.1.2.3"));
}

TEST(IpAddress, ParsesV6) {
  auto address = IpAddress::parse("fd5a::1");
  ASSERT_TRUE(address);
  EXPECT_FALSE(address->isV4());
  EXPECT_EQ(formatEndpoint(*address, 443), "[fd5a::1]:443");
  EXPECT_TRUE(IpAddress::parse("::1")->isLoopback());
}

TEST(IpAddress, RejectsGarbage) {
  EXPECT_FALSE(IpAddress::parse("api.openai.com"));
  EXPECT_FALSE(IpAddress::parse("1.2.3.4:443"));
  EXPECT_FALSE(IpAddress::parse(""));
}

}  // namespace
}  // namespace shadowai
