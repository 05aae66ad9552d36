// The run directory (train/checkpoint/run_dir.h): which files count as step checkpoints and in
// which order, resolving best/last/average/paths with errors that say what to do, pruning, and
// best.pt as an atomic hard link.
#include "train/checkpoint/run_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RunDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("qkv_run_dir_test_" + std::to_string(::getpid()));
    fs::create_directories(run_.checkpoints());
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path touch(const fs::path& path, const std::string& content = "x") const {
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string error_of(const std::string& which) const {
    try {
      run_.resolve_checkpoint(which);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path root_;
  RunDir run_{fs::temp_directory_path() / ("qkv_run_dir_test_" + std::to_string(::getpid()))};
};

TEST_F(RunDirTest, StepCheckpointsAreSortedByStepAndOthersIgnored) {
  for (const char* name : {"step-10.pt",
                           "step-9.pt",
                           "step-100.pt",
                           "best.pt",
                           "step-x.pt",
                           "step-.pt",
                           "step-3.txt",
                           ".step-4.pt.tmp-77"}) {
    touch(run_.checkpoints() / name);
  }
  fs::create_directories(run_.checkpoints() / "step-5.pt");  // a folder is no checkpoint
  EXPECT_EQ(run_.step_checkpoints(),
            (std::vector<fs::path>{
                run_.step_checkpoint(9), run_.step_checkpoint(10), run_.step_checkpoint(100)}));
  EXPECT_EQ(run_.latest_checkpoint(), run_.step_checkpoint(100));
  EXPECT_EQ(RunDir(root_ / "nowhere").latest_checkpoint(), std::nullopt);
}

TEST_F(RunDirTest, ResolvesBestLastAverageAndPaths) {
  touch(run_.step_checkpoint(2));
  touch(run_.step_checkpoint(4));
  EXPECT_EQ(run_.resolve_checkpoint("last"), run_.step_checkpoint(4));
  EXPECT_EQ(run_.resolve_checkpoint("best"), run_.step_checkpoint(4));  // no validation yet
  touch(run_.best_checkpoint());
  EXPECT_EQ(run_.resolve_checkpoint("best"), run_.best_checkpoint());
  EXPECT_THAT(error_of("average"), HasSubstr("has no average.pt (make one: qkv average --model"));
  touch(run_.average_checkpoint());
  EXPECT_EQ(run_.resolve_checkpoint("average"), run_.average_checkpoint());
  EXPECT_EQ(run_.resolve_checkpoint(run_.step_checkpoint(2).string()), run_.step_checkpoint(2));
  EXPECT_THAT(error_of((root_ / "other.pt").string()),
              HasSubstr("does not exist (use best, last, average or a path)"));
}

TEST_F(RunDirTest, MissingOrEmptyRunsSayWhatToDo) {
  EXPECT_THAT(error_of("last"), HasSubstr("has no checkpoint (train first: qkv train --run-dir"));
  const RunDir missing(root_ / "nowhere");
  try {
    missing.resolve_checkpoint("best");
    FAIL() << "a missing run directory must be an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("nowhere does not exist"));
  }
}

TEST_F(RunDirTest, PruningKeepsTheNewestStepCheckpoints) {
  for (const int64_t step : {1, 2, 3, 10}) touch(run_.step_checkpoint(step));
  touch(run_.best_checkpoint());
  run_.prune_step_checkpoints(2);
  EXPECT_EQ(run_.step_checkpoints(),
            (std::vector<fs::path>{run_.step_checkpoint(3), run_.step_checkpoint(10)}));
  EXPECT_TRUE(fs::exists(run_.best_checkpoint()));
}

TEST_F(RunDirTest, MarkBestLinksTheCheckpointAndOutlivesItsPruning) {
  touch(run_.step_checkpoint(1), "first");
  touch(run_.step_checkpoint(2), "second");
  run_.mark_best(run_.step_checkpoint(1));
  EXPECT_TRUE(fs::equivalent(run_.best_checkpoint(), run_.step_checkpoint(1)));
  run_.mark_best(run_.step_checkpoint(2));  // replaces the earlier best
  EXPECT_TRUE(fs::equivalent(run_.best_checkpoint(), run_.step_checkpoint(2)));
  run_.prune_step_checkpoints(0);
  std::ifstream in(run_.best_checkpoint());
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()),
            "second");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(run_.checkpoints())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"best.pt"});  // no temporary link left behind
  try {
    run_.mark_best(run_.step_checkpoint(7));
    FAIL() << "marking a missing checkpoint must be an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot write " + run_.best_checkpoint().string()));
  }
}

}  // namespace
}  // namespace qkv
