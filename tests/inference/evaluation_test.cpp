// inference/evaluation: evaluate() scores exactly the translator's best hypotheses with the
// metrics computed directly, test sets are read line-aligned from files, and bad input fails
// before anything is translated.
#include "inference/evaluation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "data/special_tokens.h"
#include "tests/inference/inference_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class EvaluationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir("evaluation");
    tokenizer_ = test::fixture_tokenizer(dir_);
    model_ = test::tiny_model(/*seed=*/3, tokenizer_->vocab_size());
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Transformer model_{nullptr};
};

TEST_F(EvaluationTest, ScoresTheBestTranslationsLikeTheMetricsComputedDirectly) {
  const std::vector<std::string> sources = {
      "The house is big.", "My sister reads a book.", "The garden is green."};
  const std::vector<std::string> references = {
      "Das Haus ist groß.", "Meine Schwester liest ein Buch.", "Der Garten ist grün."};
  Translator translator(model_, *tokenizer_);
  TranslateOptions options;
  options.decode.beam_size = 2;
  const Evaluation evaluation = evaluate(translator, sources, references, options);

  std::vector<std::string> expected;
  for (const auto& hypotheses : translator.translate(sources, options)) {
    expected.push_back(hypotheses.front().text);
  }
  EXPECT_EQ(evaluation.hypotheses, expected);
  const BleuScore bleu = corpus_bleu(expected, references);
  const ChrfScore chrf = corpus_chrf(expected, references);
  EXPECT_EQ(evaluation.bleu.score, bleu.score);
  EXPECT_EQ(evaluation.bleu.signature, bleu.signature);
  EXPECT_EQ(evaluation.bleu.sys_len, bleu.sys_len);
  EXPECT_EQ(evaluation.chrf.score, chrf.score);
  EXPECT_EQ(evaluation.chrf.signature, chrf.signature);
  EXPECT_GT(evaluation.seconds, 0);
  EXPECT_GT(evaluation.sentences_per_second(), 0);
}

TEST_F(EvaluationTest, ReferencesEqualToTheTranslationsScoreOneHundred) {
  Translator translator(model_, *tokenizer_);
  const TranslateOptions options;
  // The sources that the random model translates into something (references must not be empty).
  std::vector<std::string> sources, own;
  const auto english = test::fixture_sentences();
  for (size_t i = 0; i < 20; ++i) {
    const std::string hypothesis = translator.translate({english[i]}, options)[0][0].text;
    if (hypothesis.empty()) continue;
    sources.push_back(english[i]);
    own.push_back(hypothesis);
  }
  ASSERT_FALSE(sources.empty()) << "a random model should say something";
  const Evaluation evaluation = evaluate(translator, sources, own, options);
  EXPECT_EQ(evaluation.hypotheses, own);
  EXPECT_DOUBLE_EQ(evaluation.chrf.score, 100.0);
}

TEST_F(EvaluationTest, MismatchedSourcesAndReferencesAreRejected) {
  Translator translator(model_, *tokenizer_);
  EXPECT_THROW(evaluate(translator, {"a", "b"}, {"a"}, {}), std::invalid_argument);
}

TEST_F(EvaluationTest, TestSetsAreReadLineAlignedAndNamedByTheirFiles) {
  std::ofstream(dir_ / "src.en") << "The house is big.\nTea?\n";
  std::ofstream(dir_ / "ref.de") << "Das Haus ist groß.\nTee?\n";
  std::ofstream(dir_ / "short.de") << "Das Haus ist groß.\n";
  const TestSet set = read_test_set(dir_ / "src.en", dir_ / "ref.de");
  EXPECT_EQ(set.sources, (std::vector<std::string>{"The house is big.", "Tea?"}));
  EXPECT_EQ(set.references, (std::vector<std::string>{"Das Haus ist groß.", "Tee?"}));
  EXPECT_EQ(set.source_name, (dir_ / "src.en").string());
  EXPECT_EQ(set.reference_name, (dir_ / "ref.de").string());
  try {
    read_test_set(dir_ / "src.en", dir_ / "short.de");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr((dir_ / "short.de").string()));
    EXPECT_THAT(error.what(), HasSubstr("line-aligned"));
  }
}

TEST(PreparedTestSet, AnUnknownSplitFailsBeforeAnythingIsPrepared) {
  DataConfig data;
  data.prepared_dir = "/nonexistent/qkv-prepared";
  try {
    prepared_test_set(data, "train");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "--split: must be test or valid");
  }
  EXPECT_FALSE(fs::exists(data.prepared_dir));
}

}  // namespace
}  // namespace qkv
