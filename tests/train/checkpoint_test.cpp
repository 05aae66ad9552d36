// Checkpoints: round trip, atomic replacement under a failing write, corruption and
// truncation detection, architecture mismatch, and (when python3-torch is installed) that
// Python's torch.load reads the file.
#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "train/checkpoint_average.h"
#include "train/run_dir.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct TinyNet : torch::nn::Module {
  explicit TinyNet(int64_t width) {
    proj = register_module("proj", torch::nn::Linear(3, width));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  }
  torch::Tensor forward(const torch::Tensor& x) { return norm(proj(x)); }
  torch::nn::Linear proj{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qkv_checkpoint_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A checkpoint of a TinyNet after one Adam step, so that every field is non-trivial.
  Checkpoint make_checkpoint(TinyNet& net, torch::optim::Adam& adam) {
    net.forward(torch::randn({4, 3})).pow(2).sum().backward();
    adam.step();
    Checkpoint c;
    c.model = module_state(net);
    store_optimizer_state(adam, net, c);
    c.step = 17;
    c.epoch = 2;
    c.batch = 5;
    c.elapsed_seconds = 12.5;
    c.rng_state = at::detail::getDefaultCPUGenerator().get_state();
    c.config_yaml = "model:\n  d_model: 8\n";
    c.tokenizer_crc32 = "0badc0de";
    c.metrics = {{"bleu", 3.25}, {"valid_loss", 4.5}};
    c.best_score = 3.25;
    c.bad_validations = 1;
    return c;
  }

  fs::path dir_;
};

TEST_F(CheckpointTest, RoundTripRestoresEveryField) {
  torch::manual_seed(0);
  TinyNet net(4);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  const Checkpoint saved = make_checkpoint(net, adam);
  save_checkpoint(saved, dir_ / "a.pt");
  const Checkpoint loaded = load_checkpoint(dir_ / "a.pt");
  EXPECT_EQ(loaded.step, 17);
  EXPECT_EQ(loaded.epoch, 2);
  EXPECT_EQ(loaded.batch, 5);
  EXPECT_DOUBLE_EQ(loaded.elapsed_seconds, 12.5);
  EXPECT_EQ(loaded.config_yaml, saved.config_yaml);
  EXPECT_EQ(loaded.tokenizer_crc32, "0badc0de");
  EXPECT_EQ(loaded.metrics, saved.metrics);
  EXPECT_EQ(loaded.bad_validations, 1);
  EXPECT_TRUE(torch::equal(loaded.rng_state, saved.rng_state));

  TinyNet other(4);
  torch::optim::Adam other_adam(other.parameters(), torch::optim::AdamOptions(1e-2));
  load_module_state(other, loaded.model, "a.pt");
  restore_optimizer_state(other_adam, other, loaded, "a.pt");
  for (const auto& [name, tensor] : module_state(net)) {
    EXPECT_TRUE(torch::equal(tensor, other.named_parameters()[name])) << name;
  }
  // The next Adam step is identical from the original and from the restored state.
  const auto x = torch::randn({4, 3});
  for (auto* pair : {&net, &other}) pair->zero_grad();
  net.forward(x).pow(2).sum().backward();
  other.forward(x).pow(2).sum().backward();
  adam.step();
  other_adam.step();
  EXPECT_TRUE(torch::equal(net.proj->weight, other.proj->weight));
}

TEST_F(CheckpointTest, FailedWriteLeavesThePreviousCheckpointLoadable) {
  torch::manual_seed(1);
  TinyNet net(4);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  const Checkpoint first = make_checkpoint(net, adam);
  save_checkpoint(first, dir_ / "last.pt");
  const std::vector<char> other(5 << 20, 'x');
  EXPECT_THROW(write_file_atomically(dir_ / "last.pt", other, /*fail_after_bytes=*/(3 << 20)),
               std::runtime_error);
  EXPECT_EQ(load_checkpoint(dir_ / "last.pt").step, 17);
  // No temporary file is left behind.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(CheckpointTest, CorruptionAndTruncationAreNamed) {
  torch::manual_seed(2);
  TinyNet net(64);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  save_checkpoint(make_checkpoint(net, adam), dir_ / "c.pt");
  std::ifstream in(dir_ / "c.pt", std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 2000u);
  // Truncated at several points inside the payload. (Cutting only into the zip's closing
  // directory record can still load, and then the checksum proves the payload is intact.)
  for (size_t keep : {size_t{0}, size_t{10}, bytes.size() / 3, 2 * bytes.size() / 3}) {
    std::ofstream(dir_ / "t.pt", std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(keep));
    try {
      load_checkpoint(dir_ / "t.pt");
      ADD_FAILURE() << "truncated at " << keep << " loaded";
    } catch (const CheckpointError& e) {
      EXPECT_THAT(e.what(), HasSubstr("t.pt is "));
    }
  }
  // One flipped bit inside tensor data.
  auto flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  std::ofstream(dir_ / "f.pt", std::ios::binary)
      .write(flipped.data(), static_cast<std::streamsize>(flipped.size()));
  try {
    load_checkpoint(dir_ / "f.pt");
    ADD_FAILURE() << "flipped bit loaded";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("f.pt is corrupted"));
  }
  // A random file renamed to .pt, and a missing one.
  std::ofstream(dir_ / "r.pt") << "not a checkpoint at all\n";
  EXPECT_THROW(load_checkpoint(dir_ / "r.pt"), CheckpointError);
  EXPECT_THROW(load_checkpoint(dir_ / "missing.pt"), CheckpointError);
}

TEST_F(CheckpointTest, OtherArchitectureIsRejectedWithTheParameterName) {
  TinyNet net(4);
  TinyNet wider(8);
  try {
    load_module_state(wider, module_state(net), "small.pt");
    FAIL() << "no error";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("small.pt does not match the model: 'proj.weight'"));
  }
}

TEST_F(CheckpointTest, AverageIsTheMeanOfTheWeightsAndKeepsTheLastMetadata) {
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

TEST_F(CheckpointTest, AverageRejectsCheckpointsOfAnotherModel) {
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

TEST_F(CheckpointTest, PythonTorchLoadReadsIt) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-torch is not installed";
  }
  torch::manual_seed(3);
  TinyNet net(4);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  save_checkpoint(make_checkpoint(net, adam), dir_ / "p.pt");
  const std::string script =
      "import torch, sys; c = torch.load(sys.argv[1]); "
      "assert c['format'] == 'qkv-checkpoint-1'; assert c['step'] == 17; "
      "assert tuple(c['model']['proj.weight'].shape) == (4, 3); "
      "assert abs(c['metrics']['bleu'] - 3.25) < 1e-12";
  const std::string command = "/usr/bin/python3 -c \"" + script + "\" " + (dir_ / "p.pt").string();
  EXPECT_EQ(std::system(command.c_str()), 0);
}

}  // namespace
}  // namespace qkv
