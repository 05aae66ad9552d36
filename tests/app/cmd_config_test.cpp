// `qkv config` as a user runs it: the resolved config with overrides, one-line errors naming
// file:line and key, every shipped config valid, and configs/README.md in step with --docs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/app/run_command.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;
using testing::lines_of;
using ::testing::Not;
using testing::run_qkv;

TEST(ConfigCli, PrintsResolvedDefaultsAndOverrides) {
  const auto result =
      run_qkv({"config", "--set", "model.d_model=128", "--set", "model.num_heads=8"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("d_model: 128"));
  EXPECT_THAT(result.out, HasSubstr("num_heads: 8"));
  EXPECT_THAT(result.out, HasSubstr("corpus: \"ding-en-de\""));
}

TEST(ConfigCli, ErrorIsOneLineNamingFileLineAndKey) {
  const auto path = std::filesystem::temp_directory_path() / "qkv_cli_bad.yaml";
  std::ofstream(path) << "model:\n  d_model: 256\n  num_heads: 6\n";
  const auto result = run_qkv({"config", path.string()});
  EXPECT_EQ(result.exit_code, 1);
  ASSERT_EQ(lines_of(result.err).size(), 1u) << result.err;
  EXPECT_EQ(result.err,
            "qkv: error: " + path.string() +
                ":3: model.num_heads: 6 does not divide model.d_model 256\n");
  EXPECT_THAT(result.out, Not(HasSubstr("model:")));
  std::filesystem::remove(path);
}

TEST(ConfigCli, ShippedConfigsAreValid) {
  for (const auto& entry : std::filesystem::directory_iterator(QKV_SOURCE_DIR "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    const auto result = run_qkv({"config", entry.path().string()});
    EXPECT_EQ(result.exit_code, 0) << entry.path() << ": " << result.err;
  }
}

// configs/README.md documents every key with the output of `qkv config --docs`; this keeps
// the two from drifting apart.
TEST(ConfigCli, ReadmeListsTheCurrentKeys) {
  std::ifstream in(QKV_SOURCE_DIR "/configs/README.md");
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto result = run_qkv({"config", "--docs"});
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_NE(readme.find("```yaml\n" + result.out + "```"), std::string::npos)
      << "configs/README.md is out of date: paste the output of `qkv config --docs`";
}

}  // namespace
}  // namespace qkv
