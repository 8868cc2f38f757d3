// The shadowaid of an integration test: this build's binaries, every file of it in the test's
// directory, attached to the test's cgroup, its alerts read from the test's journald. Header-only:
// the binaries' paths are compile definitions of the integration tests.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "support/journald.h"
#include "support/shadowaid_under_test.h"

namespace shadowai::test {

inline Result<std::unique_ptr<ShadowaidUnderTest>> createTestDaemon(const std::string& directory,
                                                                    const std::string& attachCgroup,
                                                                    TestJournald& journald) {
  ShadowaidSettings settings;
  settings.daemonBinary = SHADOWAI_DAEMON_BINARY;
  settings.cliBinary = SHADOWAI_CLI_BINARY;
  settings.directory = directory;
  settings.attachCgroup = attachCgroup;
  settings.journald = &journald;
  return ShadowaidUnderTest::create(std::move(settings));
}

}  // namespace shadowai::test
