// Replays the fuzz seed corpus (tests/fuzz/corpus/<target>/) and every crasher the fuzzers
// found (tests/reliability/crashers/<target>/) through the same property checks the libFuzzer
// targets run (tests/fuzz/fuzz_checks.h), in the normal build. Plus one test per crasher that
// pins the fixed behaviour by its message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fuzz/fuzz_checks.h"
#include "train/experiment_config.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Every file of the seed corpus and of the crashers of `target`.
std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  for (const fs::path& dir : {fs::path(QKV_SOURCE_DIR) / "tests/fuzz/corpus" / target,
                              fs::path(QKV_SOURCE_DIR) / "tests/reliability/crashers" / target}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <class Check>
void replay(const std::string& target, Check check, size_t minimum_inputs) {
  const auto files = inputs_of(target);
  EXPECT_GE(files.size(), minimum_inputs) << "seed corpus of " << target << " is missing";
  for (const auto& file : files) {
    try {
      EXPECT_EQ(check(slurp(file)), "") << file;
    } catch (const std::exception& e) {
      ADD_FAILURE() << file << ": unexpected exception: " << e.what();
    }
  }
}

TEST(FuzzRegression, ConfigSeedsAndCrashersHoldTheProperty) {
  replay("config", fuzz::check_config_input, 8);
}

TEST(FuzzRegression, DingSeedsAndCrashersHoldTheProperty) {
  replay("ding", fuzz::check_ding_input, 4);
}

TEST(FuzzRegression, CheckpointSeedsAndCrashersHoldTheProperty) {
  replay("checkpoint", fuzz::check_checkpoint_input, 3);
}

TEST(FuzzRegression, CheckpointPickleSeedsAndCrashersHoldTheProperty) {
  replay("checkpoint_pickle", fuzz::check_checkpoint_pickle_input, 3);
}

// Crasher config/invalid_utf8_string_changes_on_round_trip.yaml: yaml-cpp read a path with a
// byte that is not UTF-8 and wrote it back as U+FFFD, so a saved run config named another file.
// Configs (and --set values) must be UTF-8, and the error names the line.
TEST(FuzzRegression, ConfigWithInvalidUtf8IsRejectedWithItsLine) {
  try {
    parse_experiment_config("data:\n  corpus: files\n  train_source: \"v\x9f.en\"\n", "x.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "x.yaml:3: not valid UTF-8 (save the config as UTF-8)");
  }
  try {
    parse_experiment_config("{}", "x.yaml", {"data.train_source=caf\xe9.en"});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--set data.train_source="));
    EXPECT_THAT(e.what(), HasSubstr("not valid UTF-8"));
  }
  // Valid UTF-8 in the same place is kept byte for byte through to_yaml and back.
  const auto config = parse_experiment_config(
      "data:\n  corpus: files\n  train_source: \"Übersetzung \xF0\x9F\x98\x80.en\"\n"
      "  train_target: a\n  valid_source: b\n  valid_target: c\n",
      "x.yaml");
  EXPECT_EQ(parse_experiment_config(to_yaml(config), "again.yaml"), config);
  EXPECT_EQ(config.data.train_source, "Übersetzung \xF0\x9F\x98\x80.en");
}

}  // namespace
}  // namespace qkv
