// `qkv prepare` as a user runs it: the Ding fixture is split into the six files, with counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/app/run_command.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::run_qkv;

const std::string kFixtures = QKV_FIXTURES_DIR;

TEST(PrepareCli, DingFixtureSplitsAndCounts) {
  const fs::path out =
      fs::temp_directory_path() / ("qkv_prepare_cli_" + std::to_string(::getpid()));
  const auto result = run_qkv({"prepare",
                               "--corpus",
                               "ding-en-de",
                               "--raw-dir",
                               kFixtures + "/data/ding",
                               "--out",
                               out.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* file : {"train.en", "train.de", "valid.en", "valid.de", "test.en", "test.de"}) {
    EXPECT_TRUE(fs::exists(out / file)) << file;
  }
  EXPECT_EQ(lines_of(result.out + result.err).empty(), false);
  fs::remove_all(out);
}

}  // namespace
}  // namespace qkv
