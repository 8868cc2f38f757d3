// The shadowaid of an integration test: this build's binaries, every file of it in the test's
// directory, attached to the test's cgroup, its alerts read from the test's journald; and the
// gtest side of using it, where what fails is the test's failure. Header-only: the binaries' paths
// are compile definitions of the integration tests, and the test bed library has no gtest.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/journald.h"
#include "support/run_command.h"
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

// RESULT's run; a command that could not be started fails the test and reads as an empty result.
inline RunResult expectRan(Result<RunResult> result) {
  EXPECT_TRUE(result) << result.error().describe();
  return result ? *result : RunResult{};
}

// `shadowai status --json`; one that fails fails the test and reads as null.
inline nlohmann::json expectStatus(ShadowaidUnderTest& daemon) {
  auto result = daemon.status();
  EXPECT_TRUE(result) << result.error().describe();
  return result ? *result : nlohmann::json();
}

// DAEMON's alerts of KIND with every FIELD=VALUE of MATCHES, once there are COUNT; each must carry
// only the fields its kind declares.
inline std::vector<nlohmann::json> expectAlerts(ShadowaidUnderTest& daemon, const std::string& kind,
                                                std::vector<std::string> matches, size_t count) {
  auto entries = daemon.waitForAlerts(kind, std::move(matches), count);
  EXPECT_TRUE(entries) << entries.error().describe();
  if (!entries) return {};
  for (const auto& entry : *entries) {
    EXPECT_EQ(undeclaredAlertFields(entry), std::vector<std::string>{}) << entry.dump();
  }
  return *entries;
}

}  // namespace shadowai::test
