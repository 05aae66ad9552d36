// inference/translator: batching never changes a translation (input order kept, same result
// alone or in any batch), n-best lists are ranked, empty and overlong sources are handled as
// documented, and the model is put in eval mode.
#include "inference/translator.h"

#include <gtest/gtest.h>

#include "tests/inference/inference_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

class TranslatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir("translator");
    tokenizer_ = test::fixture_tokenizer(dir_);
    model_ = test::tiny_model(/*seed=*/4, tokenizer_->vocab_size());
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Transformer model_{nullptr};
  const std::vector<std::string> sentences_ = {"My sister reads a book in the garden.",
                                               "Tea?",
                                               "The house is big.",
                                               "The old man walks to the station every morning."};
};

TEST_F(TranslatorTest, BatchingKeepsTheInputOrderAndTheTranslations) {
  model_->train();
  Translator translator(model_, *tokenizer_);
  EXPECT_FALSE(model_->is_training());
  for (int64_t beam : {1, 3}) {
    TranslateOptions options;
    options.decode.beam_size = beam;
    const auto together = translator.translate(sentences_, options);
    options.max_tokens = 8;  // about one sentence per batch
    const auto small_batches = translator.translate(sentences_, options);
    ASSERT_EQ(together.size(), sentences_.size());
    for (size_t i = 0; i < sentences_.size(); ++i) {
      const auto alone = translator.translate({sentences_[i]}, options);
      EXPECT_EQ(together[i][0].tokens, alone[0][0].tokens) << "beam " << beam << ", " << i;
      EXPECT_EQ(small_batches[i][0].tokens, alone[0][0].tokens) << "beam " << beam << ", " << i;
      EXPECT_EQ(together[i][0].text, tokenizer_->decode(together[i][0].tokens));
    }
  }
}

TEST_F(TranslatorTest, NbestListsAreRankedByScore) {
  Translator translator(model_, *tokenizer_);
  TranslateOptions options;
  options.decode.beam_size = 4;
  options.n_best = 3;
  for (const auto& hypotheses : translator.translate(sentences_, options)) {
    ASSERT_EQ(hypotheses.size(), 3u);
    EXPECT_GE(hypotheses[0].score, hypotheses[1].score);
    EXPECT_GE(hypotheses[1].score, hypotheses[2].score);
  }
}

TEST_F(TranslatorTest, EmptySentencesGiveOneEmptyHypothesisAndLongOnesAreReported) {
  Translator translator(model_, *tokenizer_);
  TranslateOptions options;
  options.max_source_tokens = static_cast<int64_t>(tokenizer_->encode("Tea?").size());
  ASSERT_LT(options.max_source_tokens,
            static_cast<int64_t>(tokenizer_->encode(sentences_[3]).size()));
  std::vector<int64_t> truncated;
  const auto results = translator.translate({"", "Tea?", sentences_[3]}, options, &truncated);
  ASSERT_EQ(results.size(), 3u);
  ASSERT_EQ(results[0].size(), 1u);
  EXPECT_EQ(results[0][0].text, "");
  EXPECT_TRUE(results[0][0].tokens.empty());
  EXPECT_EQ(truncated, std::vector<int64_t>{2});
  EXPECT_EQ(translator.max_source_tokens(), test::tiny_config().max_positions - 1);
}

}  // namespace
}  // namespace qkv
