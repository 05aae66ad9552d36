// Integration tests on real data: Debian's Ding dictionary (/usr/share/trans/de-en, installed
// by scripts/setup.sh) and, when present, the Multi30k and Tatoeba files in ../shared/data.
// Label "integration": they read tens of megabytes and take a few seconds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "data/ding_cleaning.h"
#include "data/ding_corpus.h"
#include "data/prepare.h"
#include "data/split.h"
#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using test::TempDir;

std::set<std::string> sources_of(const std::vector<SentencePair>& pairs) {
  std::set<std::string> sources;
  for (const auto& pair : pairs) sources.insert(pair.source);
  return sources;
}

bool disjoint(const std::set<std::string>& a, const std::set<std::string>& b) {
  return std::none_of(a.begin(), a.end(), [&](const std::string& s) { return b.count(s) > 0; });
}

TEST(DingIntegration, RealDictionaryGivesSensibleCounts) {
  const DingSentences ding = read_ding_sentences();  // fails with the apt-get hint if missing
  const DingExtractionCounts& c = ding.counts;
  // Edition 2023-01-30 gives 19,516 sentence pairs and keeps 16,826; allow for other editions.
  EXPECT_GT(c.entries, 150000);
  EXPECT_GT(c.sentence_pairs, 17000);
  EXPECT_LT(c.sentence_pairs, 23000);
  EXPECT_GT(c.kept, 14500);
  EXPECT_LT(c.kept, 19500);
  const double slash_share =
      static_cast<double>(c.slash_alternatives) / static_cast<double>(c.sentence_pairs);
  EXPECT_GT(slash_share, 0.10);
  EXPECT_LT(slash_share, 0.16);
  EXPECT_GT(c.parentheses_removed, 300);
  EXPECT_GT(c.ellipsis_templates, 0);
  EXPECT_GT(c.placeholders, 0);
  EXPECT_GT(c.length_ratio, 0);
  for (const auto& pair : ding.pairs) {
    ASSERT_TRUE(is_full_sentence(pair.source)) << pair.source;
    ASSERT_TRUE(is_full_sentence(pair.target)) << pair.target;
    ASSERT_FALSE(has_slash_alternatives(pair.source + pair.target)) << pair.source;
    ASSERT_EQ((pair.source + pair.target).find_first_of("()"), std::string::npos) << pair.source;
    ASSERT_EQ(pair.source.find("\u2019"), std::string::npos) << pair.source;  // ’ normalised
  }
}

TEST(DingIntegration, PreparedSplitsAreDisjointAndFollowTheHashRule) {
  TempDir out;
  DataConfig config;
  config.prepared_dir = out.path().string();
  const PreparedCorpus prepared = prepare_corpus(config);
  const auto train = read_prepared_split(prepared.train);
  const auto valid = read_prepared_split(prepared.valid);
  const auto test = read_prepared_split(prepared.test);
  EXPECT_EQ(static_cast<int64_t>(train.size()), prepared.train.pairs);
  EXPECT_EQ(static_cast<int64_t>(valid.size()), prepared.valid.pairs);
  EXPECT_EQ(static_cast<int64_t>(test.size()), prepared.test.pairs);
  const double total = static_cast<double>(train.size() + valid.size() + test.size());
  EXPECT_EQ(prepared.rule_counts.back().second, static_cast<int64_t>(total));
  EXPECT_NEAR(static_cast<double>(valid.size()) / total, 0.05, 0.015);
  EXPECT_NEAR(static_cast<double>(test.size()) / total, 0.05, 0.015);
  const auto train_en = sources_of(train), valid_en = sources_of(valid), test_en = sources_of(test);
  EXPECT_TRUE(disjoint(train_en, valid_en));
  EXPECT_TRUE(disjoint(train_en, test_en));
  EXPECT_TRUE(disjoint(valid_en, test_en));
  for (const auto& pair : valid) ASSERT_EQ(split_for_english(pair.source), Split::kValid);
  for (const auto& pair : test) ASSERT_EQ(split_for_english(pair.source), Split::kTest);
  EXPECT_TRUE(prepare_corpus(config).reused);
}

TEST(SharedDataIntegration, Multi30kHasItsPublishedSizes) {
  const auto raw = std::filesystem::path(QKV_SHARED_DATA_DIR) / "multi30k";
  if (!std::filesystem::exists(raw / "val.en")) GTEST_SKIP() << "no " << raw;
  TempDir out;
  DataConfig config;
  config.corpus = "multi30k-en-de";
  config.raw_dir = raw.string();
  config.prepared_dir = out.path().string();
  const PreparedCorpus prepared = prepare_corpus(config);
  EXPECT_EQ(prepared.train.pairs, 29000);
  EXPECT_EQ(prepared.valid.pairs, 1014);
  EXPECT_EQ(prepared.test.pairs, 1000);
}

TEST(SharedDataIntegration, TatoebaEnRuSplitKeepsEnglishSentencesTogether) {
  const auto raw = std::filesystem::path(QKV_SHARED_DATA_DIR) / "tatoeba";
  if (!std::filesystem::exists(raw / "en-ru.en.gz")) GTEST_SKIP() << "no " << raw;
  TempDir out;
  DataConfig config;
  config.corpus = "tatoeba-en-ru";
  config.target_lang = "ru";
  config.raw_dir = raw.string();
  config.prepared_dir = out.path().string();
  const PreparedCorpus prepared = prepare_corpus(config);
  EXPECT_EQ(prepared.train.pairs + prepared.valid.pairs + prepared.test.pairs, 19424);
  const auto train_en = sources_of(read_prepared_split(prepared.train));
  EXPECT_TRUE(disjoint(train_en, sources_of(read_prepared_split(prepared.test))));
  EXPECT_TRUE(disjoint(train_en, sources_of(read_prepared_split(prepared.valid))));
}

}  // namespace
}  // namespace qkv
