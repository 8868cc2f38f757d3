#include "common/run_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shadowai {
namespace {

using ::testing::HasSubstr;

TEST(RunCommandTest, CapturesStdoutAndStderrAndTheExitStatus) {
  auto outcome = runCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_FALSE(outcome->succeeded());
  EXPECT_EQ(outcome->exitCode, 3);
  EXPECT_EQ(outcome->output, "out\nerr\n");
  EXPECT_EQ(outcome->describeStatus(), "exit status 3");
  EXPECT_EQ(outcome->lastOutputLine(), "err");
}

TEST(RunCommandTest, SuccessAndNoShellInterpretation) {
  // The argument reaches the program as it is: no shell expands it.
  auto outcome = runCommand({"/bin/echo", "$HOME; *"});
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_TRUE(outcome->succeeded());
  EXPECT_EQ(outcome->output, "$HOME; *\n");
}

TEST(RunCommandTest, StdinIsEmpty) {
  auto outcome = runCommand({"/bin/sh", "-c", "cat; echo done"});
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_EQ(outcome->output, "done\n");
}

TEST(RunCommandTest, ASignalIsReported) {
  auto outcome = runCommand({"/bin/sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_TRUE(outcome->signaled);
  EXPECT_EQ(outcome->exitCode, 128 + 15);
  EXPECT_EQ(outcome->describeStatus(), "killed by signal 15 (SIGTERM)");
}

TEST(RunCommandTest, AMissingProgramIsAnError) {
  auto outcome = runCommand({"/nonexistent/update-ca-certificates"});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().describe(), "cannot run /nonexistent/update-ca-certificates: No such file or directory");
}

TEST(RunCommandTest, ARelativeProgramIsRefused) {
  auto outcome = runCommand({"sh", "-c", "true"});
  ASSERT_FALSE(outcome);
  EXPECT_THAT(outcome.error().describe(), HasSubstr("not an absolute path"));
}

TEST(RunCommandTest, LastOutputLineSkipsBlankLinesAndEscapesControlBytes) {
  CommandOutcome outcome;
  outcome.output = "first\n  second \x1b[31mred\t \n\n  \n";
  EXPECT_EQ(outcome.lastOutputLine(), "second \\x1b[31mred");
  outcome.output = "";
  EXPECT_EQ(outcome.lastOutputLine(), "");
  outcome.output = "only";
  EXPECT_EQ(outcome.lastOutputLine(), "only");
  outcome.output = std::string(1000, 'x');
  EXPECT_EQ(outcome.lastOutputLine(), std::string(300, 'x') + "...");
}

}  // namespace
}  // namespace shadowai
