// End-to-end tests of the qkv command line frame: help, version, exit codes, and the rule
// that every error is one line on stderr.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/version.h>

#include <string>
#include <vector>

#include "tests/app/run_command.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;
using testing::lines_of;
using testing::run_qkv;

TEST(Cli, HelpListsOnlyImplementedSubcommands) {
  const auto result = run_qkv({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("config"));
  // Each subcommand named in --help must itself answer --help.
  for (const char* sub : {"config",
                          "prepare",
                          "train",
                          "translate",
                          "evaluate",
                          "score",
                          "attention",
                          "heads",
                          "bench",
                          "average"}) {
    const bool listed = result.out.find(std::string("  ") + sub + " ") != std::string::npos ||
                        result.out.find(std::string("  ") + sub + "\n") != std::string::npos;
    if (!listed) continue;
    EXPECT_EQ(run_qkv({sub, "--help"}).exit_code, 0) << sub;
  }
}

TEST(Cli, VersionNamesLibTorch) {
  const auto result = run_qkv({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("qkv "));
  EXPECT_THAT(result.out, HasSubstr(std::string("(LibTorch ") + TORCH_VERSION + ")"));
}

TEST(Cli, UsageErrorsExitTwoWithOneLine) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, {"no-such-command"}, {"config", "--no-such-flag"}}) {
    const auto result = run_qkv(args);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
    EXPECT_THAT(result.err, HasSubstr("qkv: error: "));
  }
}

}  // namespace
}  // namespace qkv
