// /etc/hosts as evidence: what hosts(5) allows is read as the C library reads it, and only names the
// catalog lists as hosted LLM endpoints are learned.
#include <gtest/gtest.h>

#include <unistd.h>

#include "common/file_util.h"
#include "observe/hosts_file.h"

namespace shadowai {
namespace {

TEST(HostsFile, ReadsAddressesAndNamesAsTheCLibraryDoes) {
  auto entries = parseHostsFile(
      "127.0.0.1\tlocalhost\n"
      "# a comment\n"
      "  10.1.2.3   API.OpenAI.com  openai-alias   # pinned by ops\n"
      "2001:db8::7 api.anthropic.com.\n"
      "not-an-address some.name\n"
      "10.9.9.9\n"
      "10.4.4.4 last.name.without.newline");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].address, *IpAddress::parse("127.0.0.1"));
  EXPECT_EQ(entries[0].names, std::vector<std::string>{"localhost"});
  EXPECT_EQ(entries[1].address, *IpAddress::parse("10.1.2.3"));
  EXPECT_EQ(entries[1].names, (std::vector<std::string>{"api.openai.com", "openai-alias"}));
  EXPECT_EQ(entries[2].address, *IpAddress::parse("2001:db8::7"));
  EXPECT_EQ(entries[2].names, std::vector<std::string>{"api.anthropic.com"});
  EXPECT_EQ(entries[3].names, std::vector<std::string>{"last.name.without.newline"});
}

TEST(HostsFile, LearnsOnlyHostedCatalogNamesExactOrWildcard) {
  auto catalog = Catalog::load(std::string(SHADOWAI_SOURCE_DIR) + "/rules/endpoints.json", {});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  char path[] = "/tmp/shadowai-hosts-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_TRUE(writeFileAtomic(path,
                              "10.1.2.3 api.openai.com\n"
                              "10.1.2.4 myresource.openai.azure.com\n"
                              "10.1.2.5 www.example.com intranet\n"
                              "::1 localhost\n"));
  AddressNames names;
  EXPECT_EQ(learnCatalogHosts(*catalog, path, names, 60), 2u);
  EXPECT_EQ(names.namesOf(*IpAddress::parse("10.1.2.3")), std::vector<std::string>{"api.openai.com"});
  EXPECT_EQ(names.namesOf(*IpAddress::parse("10.1.2.4")), std::vector<std::string>{"myresource.openai.azure.com"});
  EXPECT_TRUE(names.namesOf(*IpAddress::parse("10.1.2.5")).empty());
  ::unlink(path);
  EXPECT_EQ(learnCatalogHosts(*catalog, path, names, 60), 0u) << "a missing file is nothing learned";
}

}  // namespace
}  // namespace shadowai
