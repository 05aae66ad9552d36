#include "data/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using ::testing::ElementsAre;

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pairs_ = read_parallel_corpus(test::fixture("small.en"), test::fixture("small.de")).pairs;
    TokenizerOptions options;
    options.vocab_size = 120;
    tokenizer_.emplace(Tokenizer::train(joint_sentences(pairs_), options, dir_ / "spm.model"));
  }
  test::TempDir dir_;
  std::vector<SentencePair> pairs_;
  std::optional<Tokenizer> tokenizer_;
};

TEST_F(DatasetTest, EncodesEveryPairWithoutSpecialTokens) {
  const EncodedCorpus corpus = encode_corpus(pairs_, *tokenizer_, /*max_length=*/0);
  ASSERT_EQ(corpus.examples.size(), pairs_.size());
  EXPECT_EQ(corpus.dropped_too_long, 0);
  EXPECT_EQ(corpus.dropped_empty, 0);
  EXPECT_EQ(corpus.examples[3].source, tokenizer_->encode(pairs_[3].source));
  EXPECT_EQ(corpus.examples[3].target, tokenizer_->encode(pairs_[3].target));
  EXPECT_EQ(corpus.pair_indices[3], 3);
}

TEST_F(DatasetTest, LengthFilterDropsPairsWithALongSide) {
  std::vector<int64_t> longest;
  for (const auto& pair : pairs_) {
    longest.push_back(static_cast<int64_t>(
        std::max(tokenizer_->encode(pair.source).size(), tokenizer_->encode(pair.target).size())));
  }
  std::vector<int64_t> sorted = longest;
  std::sort(sorted.begin(), sorted.end());
  const int64_t limit = sorted[sorted.size() / 2];  // the median: the filter must bite
  const int64_t expected_dropped =
      std::count_if(longest.begin(), longest.end(), [&](int64_t n) { return n > limit; });
  const EncodedCorpus corpus = encode_corpus(pairs_, *tokenizer_, limit);
  ASSERT_GT(expected_dropped, 0) << "the limit should bite on the fixture";
  ASSERT_LT(expected_dropped, static_cast<int64_t>(pairs_.size()));
  EXPECT_EQ(corpus.dropped_too_long, expected_dropped);
  EXPECT_EQ(static_cast<int64_t>(corpus.examples.size()),
            static_cast<int64_t>(pairs_.size()) - expected_dropped);
  for (std::size_t i = 0; i < corpus.examples.size(); ++i) {
    EXPECT_LE(static_cast<int64_t>(corpus.examples[i].source.size()), limit);
    EXPECT_LE(static_cast<int64_t>(corpus.examples[i].target.size()), limit);
    EXPECT_EQ(corpus.examples[i].source, tokenizer_->encode(pairs_[corpus.pair_indices[i]].source));
  }
}

TEST_F(DatasetTest, PairsThatEncodeToNothingAreDropped) {
  const std::vector<SentencePair> pairs = {{"  ", "Hallo."}, {"Hello.", "Hallo."}};
  const EncodedCorpus corpus = encode_corpus(pairs, *tokenizer_, 0);
  EXPECT_EQ(corpus.dropped_empty, 1);
  EXPECT_THAT(corpus.pair_indices, ElementsAre(1));
}

TEST(JointSentences, InterleavesSourceAndTarget) {
  EXPECT_THAT(joint_sentences({{"a", "b"}, {"c", "d"}}), ElementsAre("a", "b", "c", "d"));
}

}  // namespace
}  // namespace qkv
