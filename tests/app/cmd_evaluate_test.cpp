// `qkv evaluate` as a user runs it: a run trained with QKV_DATA_DIR pointing at its raw
// corpus is scored on the test split prepared for it, after that folder is gone and the
// variable unset (issue 21: it failed with "raw tatoeba files not found", or re-prepared the
// corpus from another folder it found, such as ../shared/data).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/app/run_command.h"
#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::run_qkv;

const fs::path kFixtures = QKV_FIXTURES_DIR;

// A seconds-long tatoeba-en-ru run on the 40 fixture pairs (the German side stands in for
// Russian: only the files' names matter here).
std::vector<std::string> train_args(const fs::path& run) {
  return {"train",
          "--config",
          QKV_SOURCE_DIR "/configs/en-de-tiny.yaml",
          "--run-dir",
          run.string(),
          "--set",
          "data.corpus=tatoeba-en-ru",
          "--set",
          "data.target_lang=ru",
          "--set",
          "data.vocab_size=100",
          "--set",
          "train.max_steps=4",
          "--set",
          "train.warmup_steps=2",
          "--set",
          "train.validate_every=4",
          "--set",
          "train.valid_max_sentences=4"};
}

TEST(EvaluateCli, ScoresTheRunsPreparedTestSplitWhenItsRawFolderIsGone) {
  test::TempDir dir;
  const fs::path raw = dir / "raw";
  fs::create_directories(raw / "tatoeba");
  fs::copy_file(kFixtures / "data" / "small.en", raw / "tatoeba" / "en-ru.en");
  fs::copy_file(kFixtures / "data" / "small.de", raw / "tatoeba" / "en-ru.ru");
  test::ScopedEnv cache("QKV_CACHE", (dir / "cache").string());
  const fs::path prepared = dir / "cache" / "corpora" / "tatoeba-en-ru";
  {
    test::ScopedEnv data_dir("QKV_DATA_DIR", raw.string());
    const auto trained = run_qkv(train_args(dir / "run"), "", 600);
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }
  const std::string stamp = test::read_file(prepared / "prepared.stamp");
  ASSERT_THAT(stamp, ::testing::HasSubstr((raw / "tatoeba" / "en-ru.en").string()));
  const auto test_sources = lines_of(test::read_file(prepared / "test.en"));
  ASSERT_FALSE(test_sources.empty());
  fs::remove_all(raw);

  test::ScopedEnv no_data_dir("QKV_DATA_DIR", std::nullopt);
  const auto result = run_qkv({"evaluate", "--model", (dir / "run").string(), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["sentences"], test_sources.size());
  EXPECT_EQ(json["src"], (prepared / "test.en").string());
  EXPECT_EQ(json["ref"], (prepared / "test.ru").string());
  EXPECT_EQ(test::read_file(prepared / "prepared.stamp"), stamp) << "prepared again";
}

}  // namespace
}  // namespace qkv
