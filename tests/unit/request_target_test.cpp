#include "net/request_target.h"

#include <gtest/gtest.h>

namespace shadowai {
namespace {

TEST(RequestTarget, SplitsPathAndQueryOfAnOriginFormTarget) {
  auto target = parseRequestTarget("/v1beta/models/g:generateContent?key=secret&alt=sse");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->path, "/v1beta/models/g:generateContent");
  EXPECT_EQ(target->query, "key=secret&alt=sse");
  EXPECT_EQ(requestPath("/v1/models"), "/v1/models");
  EXPECT_EQ(requestPath("/"), "/");
  EXPECT_EQ(requestPath("/x?a=b?c"), "/x");  // '?' may appear in a query
}

TEST(RequestTarget, RefusesWhatIsNotAValidOriginFormTarget) {
  for (const char* target : {"", "*", "https://evil.example/v1/chat/completions", "v1/models", "/a b", "/a|b",
                             "/a#fragment", "/m?a=%5", "/m?a=%zz", "/m?include[]=x"}) {
    EXPECT_FALSE(parseRequestTarget(target)) << target;
    EXPECT_EQ(requestPath(target), "") << target;
    EXPECT_FALSE(removeQueryParameters(target, [](std::string_view) { return true; })) << target;
  }
}

TEST(RequestTarget, RemovesParametersByTheirDecodedNameAndKeepsTheRestAsSent) {
  auto isKey = [](std::string_view name) { return name == "key"; };
  auto removal = removeQueryParameters("/m?q=a%20b&%6Bey=AIza%2Dx+y&flag&z=1+2", isKey);
  ASSERT_TRUE(removal);
  EXPECT_EQ(removal->target, "/m?q=a%20b&flag&z=1+2");
  ASSERT_EQ(removal->removed.size(), 1u);
  EXPECT_EQ(removal->removed[0].name, "key");
  EXPECT_EQ(removal->removed[0].value, "AIza-x y");  // %XX and '+' decoded as servers do

  EXPECT_EQ(removeQueryParameters("/m?key=1", isKey)->target, "/m");  // no '?' left behind
  EXPECT_EQ(removeQueryParameters("/m?a=1&&key=x&", isKey)->target, "/m?a=1&&");
  // Nothing removed: the target is returned exactly as it was, even an empty query.
  EXPECT_EQ(removeQueryParameters("/m?", isKey)->target, "/m?");
  EXPECT_EQ(removeQueryParameters("//double/slash", isKey)->target, "//double/slash");
}

}  // namespace
}  // namespace shadowai
