// inference/loaded_run: a run directory (config.yaml, spm.model, a checkpoint) loads into the
// model that was saved, with the checkpoint's own architecture; missing or mismatched pieces
// fail with one clear message.
#include "inference/loaded_run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "data/special_tokens.h"
#include "tests/inference/inference_test_util.h"
#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/run_dir.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A run directory with a tiny model's weights at step 42 as checkpoints/best.pt.
class LoadedRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir("loaded_run");
    const RunDir run(dir_);
    tokenizer_ = test::fixture_tokenizer(dir_);  // dir_/spm.model, the run's tokenizer
    config_.model = test::tiny_config();
    config_.model.d_ff = 24;  // unlike the default, so a lost architecture would show
    config_.data.max_length = config_.model.max_positions - 2;  // room for BOS/EOS
    std::ofstream(run.config()) << to_yaml(config_);
    torch::manual_seed(5);
    model_ = Transformer(config_.model, tokenizer_->vocab_size(), kPadId);
    Checkpoint checkpoint;
    checkpoint.model = module_state(*model_);
    checkpoint.step = 42;
    checkpoint.config_yaml = to_yaml(config_);
    checkpoint.tokenizer_crc32 = file_crc32(run.tokenizer());
    fs::create_directories(run.checkpoints());
    save_checkpoint(checkpoint, run.best_checkpoint());
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  ExperimentConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Transformer model_{nullptr};
};

TEST_F(LoadedRunTest, LoadsTheSavedWeightsStepAndTokenizerInEvalMode) {
  const LoadedRun loaded = load_run(dir_, "best");
  EXPECT_EQ(loaded.step, 42);
  EXPECT_EQ(loaded.checkpoint, RunDir(dir_).best_checkpoint());
  EXPECT_EQ(loaded.tokenizer->vocab_size(), tokenizer_->vocab_size());
  EXPECT_EQ(loaded.config.model.d_ff, 24);
  EXPECT_FALSE(loaded.model->is_training());
  const auto saved = model_->named_parameters();
  const auto restored = loaded.model->named_parameters();
  ASSERT_EQ(saved.size(), restored.size());
  for (const auto& item : saved) {
    EXPECT_TRUE(torch::equal(item.value(), restored[item.key()])) << item.key();
  }
}

TEST_F(LoadedRunTest, TheArchitectureIsTheCheckpointsEvenWhenConfigYamlWasEdited) {
  ExperimentConfig edited = config_;
  edited.model.d_ff = 48;
  std::ofstream(RunDir(dir_).config()) << to_yaml(edited);
  EXPECT_EQ(load_run(dir_).config.model.d_ff, 24);
  EXPECT_EQ(load_run_config(dir_, {}).model.d_ff, 48);
  EXPECT_EQ(load_run_config(dir_, {"model.d_ff=64"}).model.d_ff, 64);
}

TEST_F(LoadedRunTest, MissingOrMismatchedPiecesFailWithOneClearMessage) {
  const auto message_of = [](const std::function<void()>& load) {
    try {
      load();
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message_of([&] { load_run(dir_ / "nope"); }),
            "run directory " + (dir_ / "nope").string() + " does not exist");
  std::ofstream(RunDir(dir_).tokenizer(), std::ios::app) << "changed";
  EXPECT_THAT(message_of([&] { load_run(dir_); }), HasSubstr("tokenizer CRC-32 differs"));
  fs::remove(RunDir(dir_).tokenizer());
  EXPECT_THAT(message_of([&] { load_run(dir_); }), HasSubstr("has no spm.model"));
  fs::remove(RunDir(dir_).config());
  EXPECT_THAT(message_of([&] { load_run_config(dir_, {}); }), HasSubstr("has no config.yaml"));
}

}  // namespace
}  // namespace qkv
