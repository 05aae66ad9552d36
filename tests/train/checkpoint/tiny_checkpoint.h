// Shared by the checkpoint tests: a tiny module and a test fixture with a fresh folder and a
// checkpoint of the module in which every field holds real data.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "train/checkpoint/checkpoint.h"

namespace qkv::test {

/// A two-module net: checkpoints of it have parameters of two kinds and a few KB of data.
struct TinyNet : torch::nn::Module {
  explicit TinyNet(int64_t width) {
    proj = register_module("proj", torch::nn::Linear(3, width));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  }
  torch::Tensor forward(const torch::Tensor& x) { return norm(proj(x)); }
  torch::nn::Linear proj{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};

/// A fresh folder per test (dir_) and make_checkpoint.
class CheckpointFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("qkv_checkpoint_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

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

  std::filesystem::path dir_;
};

}  // namespace qkv::test
