// Integration tests need root (namespaces, cgroups, BPF). Without it they skip with a printed reason;
// main() also skips the whole run, this macro is for fixtures that want to say so themselves.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

namespace shadowai::test {

inline bool isRootForTest() { return ::geteuid() == 0; }

}  // namespace shadowai::test

#define SHADOWAI_REQUIRE_ROOT()                                        \
  do {                                                                 \
    if (!::shadowai::test::isRootForTest())                            \
      GTEST_SKIP() << "integration tests need root: skipping";         \
  } while (0)
