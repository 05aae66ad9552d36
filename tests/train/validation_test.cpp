// train/validation: the loss is the plain (unsmoothed) cross-entropy per target token that
// LibTorch computes for the same batch, and BLEU/chrF are those of the translator's greedy
// output on the first max_sentences pairs, scored as `qkv evaluate` scores them.
#include "train/validation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "data/batching.h"
#include "data/special_tokens.h"
#include "tests/inference/inference_test_util.h"
#include "train/metrics/bleu.h"
#include "train/metrics/chrf.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir("validation");
    tokenizer_ = test::fixture_tokenizer(dir_);
    pairs_ = {{"The house is big.", "Das Haus ist groß."},
              {"I drink tea.", "Ich trinke Tee."},
              {"The cat sleeps.", "Die Katze schläft."},
              {"Where is the station?", "Wo ist der Bahnhof?"}};
    examples_ = encode_corpus(pairs_, *tokenizer_, /*max_length=*/0).examples;
    torch::manual_seed(3);
    model_ = Transformer(test::tiny_config(), tokenizer_->vocab_size(), kPadId);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<SentencePair> pairs_;
  std::vector<Example> examples_;
  Transformer model_{nullptr};
};

TEST_F(ValidationTest, LossIsLibTorchsCrossEntropyPerTargetToken) {
  Translator translator(model_, *tokenizer_);
  const ValidationResult v =
      validate(translator, examples_, pairs_, /*max_sentences=*/0, /*max_tokens=*/4096);
  // The reference: all examples in one batch, cross_entropy summed over non-pad targets.
  torch::NoGradGuard no_grad;
  std::vector<int64_t> all(examples_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  const Batch batch = collate(examples_, all);
  const auto logits = model_->forward(batch.src, batch.tgt_in);  // [B, T, V]
  const double nll =
      torch::nn::functional::cross_entropy(
          logits.reshape({-1, logits.size(-1)}).to(torch::kFloat64),
          batch.tgt_out.reshape({-1}),
          torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kPadId).reduction(
              torch::kSum))
          .item<double>();
  const double expected = nll / static_cast<double>(batch.num_target_tokens);
  EXPECT_NEAR(v.loss, expected, 1e-5 * expected);
  EXPECT_NEAR(v.perplexity, std::exp(v.loss), 1e-9 * v.perplexity);
  EXPECT_EQ(v.sentences, 0);  // max_sentences 0: no translation
  EXPECT_TRUE(v.samples.empty());
}

TEST_F(ValidationTest, ScoresAreThoseOfTheGreedyTranslationsOfTheFirstPairs) {
  Translator translator(model_, *tokenizer_);
  const ValidationResult v =
      validate(translator, examples_, pairs_, /*max_sentences=*/3, /*max_tokens=*/4096);
  TranslateOptions greedy;
  greedy.decode.beam_size = 1;
  std::vector<std::string> sources, references, hypotheses;
  for (int i = 0; i < 3; ++i) {
    sources.push_back(pairs_[i].source);
    references.push_back(pairs_[i].target);
  }
  for (const auto& hyps : translator.translate(sources, greedy)) {
    hypotheses.push_back(hyps.front().text);
  }
  EXPECT_EQ(v.sentences, 3);
  EXPECT_DOUBLE_EQ(v.bleu, corpus_bleu(hypotheses, references).score);
  EXPECT_DOUBLE_EQ(v.chrf, corpus_chrf(hypotheses, references).score);
  ASSERT_EQ(v.samples.size(), 3u);
  EXPECT_EQ(v.samples[2].source, pairs_[2].source);
  EXPECT_EQ(v.samples[2].hypothesis, hypotheses[2]);
  EXPECT_EQ(v.samples[2].reference, pairs_[2].target);
}

}  // namespace
}  // namespace qkv
