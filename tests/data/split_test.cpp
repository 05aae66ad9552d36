#include "data/split.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using ::testing::ElementsAre;

// Expected splits were computed with Python 3.11: zlib.crc32(s.strip().encode("utf-8")) % 20,
// the rule of ../shared/bench/peer_nmt_train.py (the CRC itself: tests/data/io/crc32_test.cpp).
TEST(SplitForEnglish, FixedSentencesKeepTheirKnownSplits) {
  EXPECT_EQ(split_for_english("The night is long."), Split::kTest);      // crc % 20 == 0
  EXPECT_EQ(split_for_english("The movie starts soon."), Split::kTest);  // 0
  EXPECT_EQ(split_for_english("The glass is empty."), Split::kValid);    // 1
  EXPECT_EQ(split_for_english("She laughed loudly."), Split::kValid);    // 1
  EXPECT_EQ(split_for_english("This soup is salty."), Split::kTrain);    // 2
  EXPECT_EQ(split_for_english("It is very late."), Split::kTrain);       // 19
  EXPECT_EQ(split_for_english("Hallo Welt"), Split::kTrain);             // 17
}

TEST(SplitForEnglish, HashesTheStrippedText) {
  EXPECT_EQ(split_for_english("  The glass is empty.\t"), Split::kValid);
  EXPECT_EQ(split_for_english(" The night is long. "), Split::kTest);
}

TEST(SplitByEnglishHash, UsesTheEnglishSideAndKeepsOrder) {
  const std::vector<SentencePair> en_de = {{"The night is long.", "Die Nacht ist lang."},
                                           {"This soup is salty.", "Die Suppe ist salzig."},
                                           {"The glass is empty.", "Das Glas ist leer."},
                                           {"It is very late.", "Es ist sehr spät."},
                                           {"The night is long.", "Die Nacht dauert lange."}};
  const CorpusSplits splits = split_by_english_hash(en_de, EnglishSide::kSource);
  EXPECT_THAT(splits.test, ElementsAre(en_de[0], en_de[4]));  // same English, same split
  EXPECT_THAT(splits.valid, ElementsAre(en_de[2]));
  EXPECT_THAT(splits.train, ElementsAre(en_de[1], en_de[3]));

  std::vector<SentencePair> de_en;
  for (const auto& pair : en_de) de_en.push_back({pair.target, pair.source});
  const CorpusSplits reversed = split_by_english_hash(de_en, EnglishSide::kTarget);
  EXPECT_EQ(reversed.test.size(), 2U);
  EXPECT_EQ(reversed.valid.size(), 1U);
  EXPECT_EQ(reversed.train.size(), 2U);
  EXPECT_EQ(reversed.valid[0].target, "The glass is empty.");
}

TEST(SplitByEnglishHash, ProportionsAreNearFivePercent) {
  std::vector<SentencePair> pairs;
  for (int i = 0; i < 20000; ++i)
    pairs.push_back({"Sentence number " + std::to_string(i) + ".", "x"});
  const CorpusSplits splits = split_by_english_hash(pairs, EnglishSide::kSource);
  EXPECT_NEAR(static_cast<double>(splits.test.size()) / 20000.0, 0.05, 0.01);
  EXPECT_NEAR(static_cast<double>(splits.valid.size()) / 20000.0, 0.05, 0.01);
  EXPECT_EQ(splits.train.size() + splits.valid.size() + splits.test.size(), pairs.size());
}

TEST(SplitName, NamesEachSplit) {
  EXPECT_EQ(split_name(Split::kTrain), "train");
  EXPECT_EQ(split_name(Split::kValid), "valid");
  EXPECT_EQ(split_name(Split::kTest), "test");
}

}  // namespace
}  // namespace qkv
