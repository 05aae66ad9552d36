// Checkpoint averaging (train/checkpoint/average.h): the mean of the weights with the last
// checkpoint's metadata, the newest step checkpoints of a run, and the errors for checkpoints
// of another model and for runs without checkpoints.
#include "train/checkpoint/average.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "tests/train/checkpoint/tiny_checkpoint.h"
#include "train/checkpoint/run_dir.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using test::TinyNet;
using ::testing::HasSubstr;
using AverageTest = test::CheckpointFolderTest;

TEST_F(AverageTest, AverageIsTheMeanOfTheWeightsAndKeepsTheLastMetadata) {
  torch::manual_seed(3);
  TinyNet net(4);
  torch::optim::Adam adam(net.parameters());
  std::vector<fs::path> paths;
  std::vector<NamedTensors> states;
  for (int i = 0; i < 3; ++i) {
    Checkpoint c = make_checkpoint(net, adam);  // one Adam step each: different weights
    c.step = 10 * (i + 1);
    paths.push_back(RunDir(dir_).step_checkpoint(c.step));
    fs::create_directories(paths.back().parent_path());
    save_checkpoint(c, paths.back());
    states.push_back(load_checkpoint(paths.back()).model);
  }
  EXPECT_EQ(last_step_checkpoints(dir_, 2), (std::vector<fs::path>{paths[1], paths[2]}));
  EXPECT_EQ(last_step_checkpoints(dir_, 9), paths);

  const Checkpoint average = average_checkpoints(paths);
  EXPECT_EQ(average.step, 30);
  EXPECT_TRUE(average.optimizer.empty());
  EXPECT_EQ(average.metrics.at("averaged_checkpoints"), 3.0);
  ASSERT_EQ(average.model.size(), states[0].size());
  for (size_t t = 0; t < average.model.size(); ++t) {
    const auto expected = (states[0][t].second + states[1][t].second + states[2][t].second) / 3;
    EXPECT_TRUE(torch::allclose(average.model[t].second, expected, 1e-6, 1e-7))
        << average.model[t].first;
    EXPECT_FALSE(torch::equal(average.model[t].second, states[2][t].second))
        << average.model[t].first;
  }
  // The average loads into the model like any checkpoint.
  TinyNet other(4);
  load_module_state(other, average.model, "average");
}

TEST_F(AverageTest, AverageRejectsCheckpointsOfAnotherModel) {
  TinyNet small(4), wide(5);
  torch::optim::Adam adam_small(small.parameters()), adam_wide(wide.parameters());
  save_checkpoint(make_checkpoint(small, adam_small), dir_ / "a.pt");
  save_checkpoint(make_checkpoint(wide, adam_wide), dir_ / "b.pt");
  try {
    average_checkpoints({dir_ / "a.pt", dir_ / "b.pt"});
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("b.pt does not match"));
    EXPECT_THAT(e.what(), HasSubstr("another architecture"));
  }
  EXPECT_THROW(last_step_checkpoints(dir_ / "empty-run", 3), std::runtime_error);
  EXPECT_THROW(last_step_checkpoints(dir_, 0), std::runtime_error);
}

}  // namespace
}  // namespace qkv
