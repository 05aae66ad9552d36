// Integration tests of `train_model` on a small synthetic English-German corpus: training
// lowers the loss, an interrupted-and-resumed run reproduces the uninterrupted one exactly,
// and bad input fails cleanly without leaving a run directory behind.
#include "train/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "inference/loaded_run.h"
#include "inference/translator.h"
#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/run_dir.h"
#include "train/metrics_log.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Sentences of a tiny grammar, "the big dog sees a red cat ." -> "der große Hund sieht eine rote
// Katze .", deterministic for a seed. German articles ignore gender agreement beyond what the table
// has.
void write_corpus(const fs::path& source, const fs::path& target, int lines, unsigned seed) {
  const std::vector<std::pair<std::string, std::string>> nouns = {{"dog", "Hund"},
                                                                  {"cat", "Katze"},
                                                                  {"house", "Haus"},
                                                                  {"man", "Mann"},
                                                                  {"woman", "Frau"},
                                                                  {"child", "Kind"},
                                                                  {"car", "Auto"},
                                                                  {"bird", "Vogel"}};
  const std::vector<std::pair<std::string, std::string>> adjectives = {
      {"big", "große"}, {"small", "kleine"}, {"red", "rote"}, {"old", "alte"}, {"new", "neue"}};
  const std::vector<std::pair<std::string, std::string>> verbs = {
      {"sees", "sieht"}, {"likes", "mag"}, {"finds", "findet"}, {"hears", "hört"}};
  std::mt19937 rng(seed);
  auto pick = [&](const auto& list) { return list[rng() % list.size()]; };
  std::ofstream src(source), tgt(target);
  for (int i = 0; i < lines; ++i) {
    const auto a1 = pick(adjectives), n1 = pick(nouns), v = pick(verbs), a2 = pick(adjectives),
               n2 = pick(nouns);
    src << "the " << a1.first << " " << n1.first << " " << v.first << " the " << a2.first << " "
        << n2.first << " .\n";
    tgt << "die " << a1.second << " " << n1.second << " " << v.second << " die " << a2.second << " "
        << n2.second << " .\n";
  }
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    dir_ = fs::temp_directory_path() / ("qkv_trainer_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "corpus");
    write_corpus(dir_ / "corpus/train.en", dir_ / "corpus/train.de", 400, 1);
    write_corpus(dir_ / "corpus/valid.en", dir_ / "corpus/valid.de", 20, 2);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ExperimentConfig config(const std::vector<std::string>& extra = {},
                          const std::string& yaml = "{}") const {
    std::vector<std::string> overrides = {
        "data.corpus=files",
        "data.train_source=" + (dir_ / "corpus/train.en").string(),
        "data.train_target=" + (dir_ / "corpus/train.de").string(),
        "data.valid_source=" + (dir_ / "corpus/valid.en").string(),
        "data.valid_target=" + (dir_ / "corpus/valid.de").string(),
        "data.prepared_dir=" + (dir_ / "prepared").string(),
        "data.vocab_size=48",
        "model.d_model=32",
        "model.num_heads=2",
        "model.d_ff=64",
        "model.encoder_layers=1",
        "model.decoder_layers=1",
        "train.max_tokens=400",
        "train.warmup_steps=4",
        "train.learning_rate=3e-3",
        "train.log_every=1",
        "train.valid_max_sentences=5",
    };
    overrides.insert(overrides.end(), extra.begin(), extra.end());
    return parse_experiment_config(yaml, "test", overrides);
  }

  static std::vector<double> train_losses(const fs::path& run) {
    std::vector<double> losses;
    for (const auto& record : MetricsLog::read(RunDir(run).metrics())) {
      if (record.type == "train") losses.push_back(record.values.at("loss"));
    }
    return losses;
  }

  fs::path dir_;
};

TEST_F(TrainerTest, TrainingLowersTheLoss) {
  const auto summary =
      train_model(config({"train.max_steps=40", "train.validate_every=40"}), {dir_ / "run", false});
  EXPECT_EQ(summary.steps, 40);
  EXPECT_EQ(summary.stop_reason, "max_steps");
  const auto losses = train_losses(dir_ / "run");
  ASSERT_EQ(losses.size(), 40u);
  const double first = (losses[0] + losses[1] + losses[2]) / 3;
  const double last = (losses[37] + losses[38] + losses[39]) / 3;
  EXPECT_LT(last, 0.7 * first) << "first " << first << " last " << last;
  EXPECT_TRUE(fs::exists(RunDir(dir_ / "run").best_checkpoint()));
  EXPECT_TRUE(fs::exists(RunDir(dir_ / "run").config()));
  EXPECT_TRUE(fs::exists(RunDir(dir_ / "run").tokenizer()));
}

// bf16 GEMMs on the CPU (model/linear.h) with float32 master weights still learn; emulated
// where the CPU has no native bf16, so this runs on every machine.
TEST_F(TrainerTest, TrainingInBf16LowersTheLoss) {
  train_model(config({"train.max_steps=40", "train.validate_every=40", "train.precision=bf16"}),
              {dir_ / "bf16", false});
  const auto losses = train_losses(dir_ / "bf16");
  ASSERT_EQ(losses.size(), 40u);
  const double first = (losses[0] + losses[1] + losses[2]) / 3;
  const double last = (losses[37] + losses[38] + losses[39]) / 3;
  EXPECT_LT(last, 0.7 * first) << "first " << first << " last " << last;
}

// The CLI plugs the probe-attention writer and the loss plot in through these hooks (see
// tests/app for what they write).
TEST_F(TrainerTest, HooksRunAfterEachValidationAndOnceAfterTraining) {
  std::vector<int64_t> validated_steps;
  std::vector<std::string> translations;
  int trainings_finished = 0;
  TrainOptions options{dir_ / "run", false};
  options.hooks.after_validation = [&](Translator& translator, int64_t step) {
    validated_steps.push_back(step);
    // The translator wraps the model being trained: it decodes, and training goes on after.
    translations.push_back(translator.translate({"the big dog sees the cat ."}, {})[0][0].text);
  };
  options.hooks.after_training = [&](const RunDir& run) {
    ++trainings_finished;
    EXPECT_EQ(run.root(), dir_ / "run");
    EXPECT_TRUE(fs::exists(run.metrics()));
  };
  const auto summary =
      train_model(config({"train.max_steps=6", "train.validate_every=3"}), options);
  EXPECT_EQ(summary.steps, 6);
  EXPECT_THAT(validated_steps, ElementsAre(3, 6));
  EXPECT_EQ(translations.size(), 2u);
  EXPECT_EQ(trainings_finished, 1);
  // Without hooks the trainer itself writes no attention maps and no plot.
  EXPECT_FALSE(fs::exists(RunDir(dir_ / "run").attention()));
  EXPECT_FALSE(fs::exists(RunDir(dir_ / "run").loss_plot()));
}

TEST_F(TrainerTest, DivergedTrainingStopsWithAClearError) {
  // A learning rate of 1e30 sends the weights to inf within a few steps.
  try {
    train_model(config({"train.max_steps=40",
                        "train.validate_every=40",
                        "train.warmup_steps=1",
                        "train.learning_rate=1e30"}),
                {dir_ / "run", false});
    FAIL() << "expected training to stop";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("training diverged: loss or gradient not finite in 5 steps"));
  }
}

TEST_F(TrainerTest, InterruptedAndResumedRunReproducesTheUninterruptedOne) {
  const std::vector<std::string> common = {"train.validate_every=4", "model.dropout=0.3"};
  auto straight = common;
  straight.push_back("train.max_steps=12");
  train_model(config(straight), {dir_ / "straight", false});

  auto first_half = common;
  first_half.push_back("train.max_steps=6");
  train_model(config(first_half), {dir_ / "resumed", false});
  // The second half starts from the run directory's config, as `qkv train --resume` does.
  train_model(load_run_config(dir_ / "resumed", {"train.max_steps=12"}), {dir_ / "resumed", true});

  const auto a = train_losses(dir_ / "straight");
  const auto b = train_losses(dir_ / "resumed");
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "step " << i + 1;
  const Checkpoint x = load_checkpoint(RunDir(dir_ / "straight").step_checkpoint(12));
  const Checkpoint y = load_checkpoint(RunDir(dir_ / "resumed").step_checkpoint(12));
  ASSERT_EQ(x.model.size(), y.model.size());
  for (size_t i = 0; i < x.model.size(); ++i) {
    EXPECT_TRUE(torch::equal(x.model[i].second, y.model[i].second)) << x.model[i].first;
  }
}

TEST_F(TrainerTest, ExistingRunIsNotOverwrittenAndResumeNeedsACheckpoint) {
  train_model(config({"train.max_steps=2", "train.warmup_steps=1"}), {dir_ / "run", false});
  try {
    train_model(config({"train.max_steps=2", "train.warmup_steps=1"}), {dir_ / "run", false});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("already has checkpoints: pass --resume"));
  }
  try {
    train_model(config({"train.max_steps=2", "train.warmup_steps=1"}), {dir_ / "empty", true});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no checkpoint"));
  }
}

// train.device is resolved before anything is written: on a machine without CUDA, `cuda` is
// the one-line error of model/device.h.
TEST_F(TrainerTest, UnusableDeviceIsOneLineBeforeAnythingIsWritten) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train.device=cuda", "train.device cuda: "}};
  for (const auto& [setting, expected] : cases) {
    if (setting == "train.device=cuda" && torch::cuda::is_available()) continue;
    try {
      train_model(
          config({"train.max_steps=2", "train.warmup_steps=1", "train.device=cpu", setting}),
          {dir_ / "gpu", false});
      ADD_FAILURE() << setting << ": no error";
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_EQ(message.rfind(expected, 0), 0u) << message;
    }
    EXPECT_FALSE(fs::exists(dir_ / "gpu")) << setting;
  }
}

TEST_F(TrainerTest, BadDataFailsWithoutLeavingARunDirectory) {
  std::ofstream(dir_ / "corpus/short.de") << "nur eine Zeile .\n";
  try {
    train_model(config({"train.max_steps=2",
                        "train.warmup_steps=1",
                        "data.train_target=" + (dir_ / "corpus/short.de").string()}),
                {dir_ / "bad", false});
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), HasSubstr("short.de"));
  }
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
  // Vocabulary larger than the corpus supports: SentencePiece's reason, no debris.
  try {
    train_model(config({"train.max_steps=2", "train.warmup_steps=1", "data.vocab_size=5000"}),
                {dir_ / "bad", false});
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), HasSubstr("ocabulary size"));
  }
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
}

}  // namespace
}  // namespace qkv
