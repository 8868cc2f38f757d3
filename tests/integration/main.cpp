// gtest main for the integration tests. ctest runs every test in its own process, so entering fresh
// network and mount namespaces here, before any thread exists, gives each test its own world that
// disappears when the process does.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>

#include "support/require_root.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"

namespace {

// Skipping in the global set-up skips every test, with the reason printed once.
class SkipWithoutRoot : public ::testing::Environment {
 public:
  void SetUp() override { GTEST_SKIP() << "integration tests need root: skipping"; }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!shadowai::test::isRootForTest()) {
    // gtest 1.12 does not mark tests skipped by a global set-up skip, and ctest's gtest_discover_tests
    // recognises a skip by this text, so say it in gtest's words.
    std::printf("[  SKIPPED ] integration tests need root: skipping\n");
    ::testing::AddGlobalTestEnvironment(new SkipWithoutRoot);
    return RUN_ALL_TESTS();
  }
  // Listing tests (gtest_discover_tests at build time) needs no world.
  if (!GTEST_FLAG_GET(list_tests)) {
    if (auto entered = shadowai::test::enterTestNamespaces(); !entered) {
      std::fprintf(stderr, "cannot build the test's namespaces: %s\n", entered.error().describe().c_str());
      return 1;
    }
    shadowai::test::removeStaleTestCgroups();
    shadowai::test::removeStaleTestScratch();
  }
  // A peer that closes early must fail a write, not kill the test binary.
  ::signal(SIGPIPE, SIG_IGN);
  const int result = RUN_ALL_TESTS();
  shadowai::test::leaveTestScratch();
  return result;
}
