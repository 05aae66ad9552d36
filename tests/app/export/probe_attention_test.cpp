// app/export/probe_attention: the snapshots `qkv train` writes at each validation hold every
// probe's cross-attention (all decoder layers and heads, rounded to 4 decimals), are listed by
// step, restore the model's training mode, and are read back only when they are snapshots.
#include "app/export/probe_attention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app/export/attention_json.h"
#include "data/special_tokens.h"
#include "inference/attention_maps.h"
#include "tests/inference/inference_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ProbeAttentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir("probe");
    tokenizer_ = test::fixture_tokenizer(dir_);
    torch::manual_seed(2);
    model_ = Transformer(test::tiny_config(), tokenizer_->vocab_size(), kPadId);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Transformer model_{nullptr};
};

TEST_F(ProbeAttentionTest, SnapshotsHoldCrossAttentionPerLayerAndAreListedByStep) {
  Translator translator(model_, *tokenizer_);
  model_->train();
  const std::vector<std::string> probes = {"The house is big.", "The garden is green."};
  save_probe_attention(translator, probes, 100, dir_ / "attention");
  save_probe_attention(translator, probes, 20, dir_ / "attention");
  save_probe_attention(translator, {}, 30, dir_ / "attention");  // no probes: no file
  EXPECT_TRUE(model_->is_training()) << "the trainer's mode must be restored";
  const auto files = probe_attention_files(dir_ / "attention");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "step-20.json");
  EXPECT_EQ(files[1].filename(), "step-100.json");

  const nlohmann::json snapshot = read_probe_attention(files[1]);
  EXPECT_EQ(snapshot["format"], "qkv-attention-probes/1");
  EXPECT_EQ(snapshot["step"], 100);
  ASSERT_EQ(snapshot["probes"].size(), 2u);
  for (const auto& probe : snapshot["probes"]) {
    const auto& layers = probe["cross_attn"];
    ASSERT_EQ(layers.size(), 2u);  // decoder layers
    for (const auto& heads : layers) {
      ASSERT_EQ(heads.size(), 2u);
      for (const auto& rows : heads) {
        ASSERT_EQ(rows.size(), probe["target_tokens"].size());
        for (const auto& row : rows) {
          ASSERT_EQ(row.size(), probe["source_tokens"].size());
          double sum = 0;
          for (const auto& w : row) sum += w.get<double>();
          EXPECT_NEAR(sum, 1.0, 1e-3);  // rounded to 4 decimals
        }
      }
    }
  }
  EXPECT_TRUE(probe_attention_files(dir_ / "missing").empty());
}

TEST_F(ProbeAttentionTest, EachProbeIsItsGreedyTranslationWithWeightsRoundedToFourDecimals) {
  Translator translator(model_, *tokenizer_);
  save_probe_attention(translator, {"My sister reads a book."}, 7, dir_ / "attention");
  const nlohmann::json probe =
      read_probe_attention(dir_ / "attention" / "step-7.json")["probes"][0];

  TranslateOptions greedy;
  greedy.decode.beam_size = 1;
  const SentenceAttention sentence =
      collect_decoded_attention(translator, "My sister reads a book.", greedy, false);
  EXPECT_EQ(probe, probe_json(sentence));
  EXPECT_EQ(probe["translation"], sentence.target_text);
  const torch::Tensor weights = sentence.at("decoder.1.cross_attn").weights;  // [H, T, S]
  for (int64_t q = 0; q < weights.size(1); ++q) {
    for (int64_t k = 0; k < weights.size(2); ++k) {
      const double expected = std::round(weights[1][q][k].item<float>() * 1e4) / 1e4;
      EXPECT_EQ(probe["cross_attn"][1][1][q][k].get<double>(), expected) << q << ", " << k;
    }
  }
}

TEST_F(ProbeAttentionTest, ErrorsNameTheFile) {
  Translator translator(model_, *tokenizer_);
  const fs::path taken = dir_ / "attention" / "step-1.json";
  fs::create_directories(taken / "a folder");  // the file's name is taken by a folder
  try {
    save_probe_attention(translator, {"The house is big."}, 1, dir_ / "attention");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot write " + taken.string()));
  }
  std::ofstream(dir_ / "step-3.json") << R"({"format": "qkv-attention/1"})";
  std::ofstream(dir_ / "step-4.json") << "{not json";
  for (const char* name : {"step-3.json", "step-4.json", "step-5.json"}) {
    try {
      read_probe_attention(dir_ / name);
      FAIL() << name;
    } catch (const std::runtime_error& error) {
      EXPECT_THAT(error.what(), HasSubstr((dir_ / name).string())) << name;
    }
  }
}

}  // namespace
}  // namespace qkv
