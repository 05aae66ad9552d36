// Corpus chrF on hand-worked examples. With sacreBLEU's defaults, for each character order n
// in 1..6 (whitespace removed) precision P_n = matches / hyp n-grams and recall
// R_n = matches / ref n-grams are averaged over the orders where both sides have n-grams, and
// chrF = 100 * (1 + b^2) P R / (b^2 P + R) with b = 2. Each expectation is derived above it.
#include "train/metrics/chrf.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace qkv {
namespace {

using Stats = std::vector<int64_t>;

TEST(CorpusChrf, PerfectMatchIs100) {
  const ChrfScore chrf = corpus_chrf({"Hello world"}, {"Hello world"});
  EXPECT_NEAR(chrf.score, 100.0, 1e-9);
  EXPECT_EQ(chrf.name, "chrF2");
}

TEST(CorpusChrf, NoSharedCharacterIsZero) {
  const ChrfScore chrf = corpus_chrf({"abc"}, {"xyz"});
  EXPECT_EQ(chrf.score, 0.0);
}

TEST(CorpusChrf, HandWorkedPartialMatch) {
  // "abc" vs "abd":
  //   n=1: a b c / a b d -> 2 of 3 both ways: P = R = 2/3
  //   n=2: ab bc / ab bd -> 1 of 2: P = R = 1/2
  //   n=3: abc / abd     -> 0 of 1: P = R = 0 (still an effective order)
  //   n=4..6: the reference has no n-grams -> hyp count reported as 0, order skipped
  // P = R = (2/3 + 1/2 + 0) / 3 = 7/18, so F2 = 5 P R / (4 P + R) = P = 7/18 = 38.89%.
  const ChrfScore chrf = corpus_chrf({"abc"}, {"abd"});
  EXPECT_EQ(chrf.stats, (Stats{3, 3, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_NEAR(chrf.score, 700.0 / 18.0, 1e-9);
  EXPECT_EQ(chrf.format(), "chrF2 = 38.89");
}

TEST(CorpusChrf, RecallWeighsMoreThanPrecision) {
  // hyp "ab" vs ref "abcd": n=1: 2 matches, P = 2/2, R = 2/4; n=2: "ab" matches, P = 1/1,
  // R = 1/3; n=3,4: the hypothesis has no n-grams (orders skipped); n=5,6: no ref n-grams.
  // P = (1 + 1)/2 = 1, R = (1/2 + 1/3)/2 = 5/12; F2 = 5 * 1 * 5/12 / (4 + 5/12) = 25/53.
  const ChrfScore chrf = corpus_chrf({"ab"}, {"abcd"});
  EXPECT_NEAR(chrf.score, 2500.0 / 53.0, 1e-9);
  // Swapped (precision 5/12, recall 1): F2 = 5 * 5/12 / (4 * 5/12 + 1) = 25/32 = 78.125%.
  EXPECT_NEAR(corpus_chrf({"abcd"}, {"ab"}).score, 78.125, 1e-9);
}

TEST(CorpusChrf, WhitespaceIsIgnoredByDefault) {
  // Whitespace (any Python whitespace, here a tab and a no-break space) is removed before
  // counting character n-grams, so these are identical.
  EXPECT_NEAR(corpus_chrf({"ab cd"}, {"a\tbc\u00a0d"}).score, 100.0, 1e-9);
  ChrfOptions options;
  options.whitespace = true;
  EXPECT_LT(corpus_chrf({"ab cd"}, {"abc d"}, options).score, 100.0);
}

TEST(CorpusChrf, CountsCodePointsNotBytes) {
  // "é" (C3 A9) vs "è" (C3 A8): different code points, so nothing matches. Counting bytes
  // would match the shared lead byte C3.
  const ChrfScore chrf = corpus_chrf({"é"}, {"è"});
  EXPECT_EQ(chrf.score, 0.0);
  EXPECT_EQ(chrf.stats[0], 1);  // one character, not two bytes
  // "naïve" has 5 character unigrams and 4 bigrams.
  const ChrfScore naive = corpus_chrf({"naïve"}, {"naïve"});
  EXPECT_EQ(naive.stats[0], 5);
  EXPECT_EQ(naive.stats[3], 4);
}

TEST(CorpusChrf, MultiLineCorpusSumsStatistics) {
  // Line 1: "abc" vs "abd" (stats above). Line 2: "ab" vs "ab": n=1 2/2, n=2 1/1.
  // Sums: n=1 5 hyp, 5 ref, 4 match; n=2 3, 3, 2; n=3 1, 1, 0; n>=4 none.
  // P = R = (4/5 + 2/3 + 0) / 3 = 22/45 -> chrF = 48.89, not the mean of 38.89 and 100.
  const ChrfScore chrf = corpus_chrf({"abc", "ab"}, {"abd", "ab"});
  EXPECT_EQ(chrf.stats[0], 5);
  EXPECT_EQ(chrf.stats[2], 4);
  EXPECT_NEAR(chrf.score, 2200.0 / 45.0, 1e-9);
}

TEST(CorpusChrf, EmptyHypothesisLine) {
  // Line 2's empty hypothesis adds reference n-grams only: n=1 hyp 3+0, ref 3+2, match 2;
  // n=2 hyp 2, ref 2+1, match 1; n=3 1, 1, 0.
  // P = (2/3 + 1/2 + 0)/3 = 7/18; R = (2/5 + 1/3 + 0)/3 = 11/45;
  // F2 = 5 P R / (4 P + R) = 5 * 7/18 * 11/45 / (28/18 + 11/45) = 385/1458.
  const ChrfScore chrf = corpus_chrf({"abc", ""}, {"abd", "xy"});
  EXPECT_NEAR(chrf.score, 38500.0 / 1458.0, 1e-9);
  EXPECT_EQ(corpus_chrf({""}, {"xy"}).score, 0.0);
}

TEST(CorpusChrf, EpsSmoothingAveragesFScoresOverAllOrders) {
  // "abc" vs "abd" with eps smoothing: F per order: n=1 2/3, n=2 1/2, n=3 0 (P = R = 0 gives
  // eps), n=4..6 eps. chrF = 100 * (2/3 + 1/2 + 4 eps) / 6 = 19.44.
  ChrfOptions options;
  options.eps_smoothing = true;
  EXPECT_NEAR(corpus_chrf({"abc"}, {"abd"}, options).score, 100.0 * (7.0 / 6.0) / 6.0, 1e-9);
}

TEST(CorpusChrf, ChrfPlusPlusAddsWordNgrams) {
  // word_order 2, one char order to keep the arithmetic small: "a b," vs "a b":
  //   chars (whitespace removed) "ab," vs "ab": n=1 P = 2/3, R = 1
  //   words: "b," splits into "b" ","; hyp words a b , vs ref a b:
  //     1-grams P = 2/3, R = 1; 2-grams "a b" "b ," vs "a b": P = 1/2, R = 1
  // P = (2/3 + 2/3 + 1/2)/3 = 11/18, R = 1; F2 = 5 * 11/18 / (44/18 + 1) = 55/62.
  ChrfOptions options;
  options.char_order = 1;
  options.word_order = 2;
  const ChrfScore chrf = corpus_chrf({"a b,"}, {"a b"}, options);
  EXPECT_NEAR(chrf.score, 5500.0 / 62.0, 1e-9);
  EXPECT_EQ(chrf.name, "chrF2++");
  EXPECT_EQ(chrf.stats, (Stats{3, 2, 2, 3, 2, 2, 2, 1, 1}));
}

TEST(CorpusChrf, LowercaseOption) {
  EXPECT_LT(corpus_chrf({"ABC"}, {"abc"}).score, 1e-9);
  ChrfOptions options;
  options.lowercase = true;
  EXPECT_NEAR(corpus_chrf({"ABC"}, {"abc"}, options).score, 100.0, 1e-9);
}

TEST(CorpusChrf, MultipleReferencesPickTheBestPerSegment) {
  // Ref 1 "xyz" shares nothing; ref 2 "abd" gives 38.89 (see HandWorkedPartialMatch).
  const ChrfScore chrf = corpus_chrf_multi({"abc"}, {{"xyz"}, {"abd"}});
  EXPECT_NEAR(chrf.score, 700.0 / 18.0, 1e-9);
  // A segment whose only non-empty reference is in stream 2: the count varies -> "var".
  const ChrfScore var = corpus_chrf_multi({"abc", "ab"}, {{"xyz", ""}, {"abd", "ab"}});
  EXPECT_EQ(var.signature.substr(0, 10), "nrefs:var|");
}

TEST(CorpusChrf, SignatureAndFormatLikeSacrebleu) {
  const ChrfScore chrf = corpus_chrf({"abc"}, {"abd"});
  EXPECT_EQ(chrf.signature, "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x|impl:qkv");
  EXPECT_EQ(chrf.format_with_signature(),
            "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x|impl:qkv = 38.89");
}

TEST(CorpusChrf, StatisticsAndOptionsAreValidated) {
  EXPECT_THROW(chrf_from_stats({1, 2, 3}), std::invalid_argument);  // needs 18 numbers
  ChrfOptions options;
  options.char_order = 0;
  EXPECT_THROW(corpus_chrf({"a"}, {"a"}, options), std::invalid_argument);
  EXPECT_THROW(corpus_chrf({"a"}, {"a", "b"}), std::invalid_argument);
  EXPECT_THROW(corpus_chrf({"a"}, {""}), std::invalid_argument);
}

}  // namespace
}  // namespace qkv
