// Corpus BLEU on hand-worked examples. Every expected value is derived in the comment above
// it from the definition sacreBLEU 2.x uses (13a tokens, clipped n-gram precisions in percent,
// exp smoothing, brevity penalty exp(1 - r/c), geometric mean over orders 1..4).
#include "train/metrics/bleu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace qkv {
namespace {

using Counts = std::vector<int64_t>;

TEST(CorpusBleu, PerfectMatchIs100) {
  // 6 tokens: 6/6 unigrams, 5/5 bigrams, 4/4 trigrams, 3/3 4-grams match, BP = 1.
  const BleuScore bleu = corpus_bleu({"the cat sat on the mat"}, {"the cat sat on the mat"});
  EXPECT_NEAR(bleu.score, 100.0, 1e-9);
  EXPECT_EQ(bleu.counts, (Counts{6, 5, 4, 3}));
  EXPECT_EQ(bleu.totals, (Counts{6, 5, 4, 3}));
  EXPECT_DOUBLE_EQ(bleu.bp, 1.0);
  EXPECT_EQ(bleu.format(),
            "BLEU = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 "
            "hyp_len = 6 ref_len = 6)");
}

TEST(CorpusBleu, NoOverlapIsZeroWithZeroPrecisions) {
  // No n-gram matches at any order: sacreBLEU returns 0 before smoothing, and reports all
  // precisions as 0 (not the smoothed values).
  const BleuScore bleu = corpus_bleu({"a b c d"}, {"e f g h"});
  EXPECT_EQ(bleu.score, 0.0);
  EXPECT_EQ(bleu.counts, (Counts{0, 0, 0, 0}));
  EXPECT_EQ(bleu.totals, (Counts{4, 3, 2, 1}));
  EXPECT_EQ(bleu.precisions, (std::vector<double>{0.0, 0.0, 0.0, 0.0}));
  EXPECT_EQ(bleu.format(),
            "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 4 ref_len = 4)");
}

TEST(CorpusBleu, BrevityPenaltyForShortHypothesis) {
  // hyp "the cat sat on" (c = 4) is a prefix of the 6-token reference (r = 6): every n-gram
  // matches (4/4, 3/3, 2/2, 1/1), so BLEU = 100 * BP = 100 * exp(1 - 6/4) = 100 * e^-0.5
  // = 60.6531; ratio = 4/6 = 0.667.
  const BleuScore bleu = corpus_bleu({"the cat sat on"}, {"the cat sat on the mat"});
  EXPECT_NEAR(bleu.bp, std::exp(-0.5), 1e-12);
  EXPECT_NEAR(bleu.score, 60.653065971263345, 1e-9);
  EXPECT_EQ(bleu.sys_len, 4);
  EXPECT_EQ(bleu.ref_len, 6);
  EXPECT_EQ(bleu.format(),
            "BLEU = 60.65 100.0/100.0/100.0/100.0 (BP = 0.607 ratio = 0.667 "
            "hyp_len = 4 ref_len = 6)");
}

TEST(CorpusBleu, LongerHypothesisHasNoBrevityPenalty) {
  // hyp 6 tokens vs ref 4: BP = 1, ratio 1.5; unigrams 4/6, bigrams 3/5, trigrams 2/4,
  // 4-grams 1/3: BLEU = 100 * (4/6 * 3/5 * 2/4 * 1/3)^(1/4) = 100 * (1/15)^(1/4) = 50.8133.
  const BleuScore bleu = corpus_bleu({"the cat sat on the mat"}, {"the cat sat on"});
  EXPECT_DOUBLE_EQ(bleu.bp, 1.0);
  EXPECT_DOUBLE_EQ(bleu.ratio, 1.5);
  EXPECT_NEAR(bleu.score, 100.0 * std::pow(1.0 / 15.0, 0.25), 1e-9);
}

TEST(CorpusBleu, ExpSmoothingWithZeroHigherOrderMatches) {
  // hyp "the cat ran fast today" vs ref "the cat sat down today" (5 tokens each, BP = 1):
  //   1-grams: the, cat, today match -> 3/5 = 60%
  //   2-grams: only "the cat" matches -> 1/4 = 25%
  //   3-grams: 0/3 -> exp smoothing, first zero order: 100 / (2 * 3) = 16.667%
  //   4-grams: 0/2 -> second zero order: 100 / (4 * 2) = 12.5%
  // BLEU = (60 * 25 * 16.667 * 12.5)^(1/4) = 312500^(1/4) = 23.6435.
  const BleuScore bleu = corpus_bleu({"the cat ran fast today"}, {"the cat sat down today"});
  EXPECT_EQ(bleu.counts, (Counts{3, 1, 0, 0}));
  EXPECT_EQ(bleu.totals, (Counts{5, 4, 3, 2}));
  EXPECT_NEAR(bleu.precisions[2], 100.0 / 6.0, 1e-12);
  EXPECT_NEAR(bleu.precisions[3], 12.5, 1e-12);
  EXPECT_NEAR(bleu.score, std::pow(312500.0, 0.25), 1e-9);
  EXPECT_EQ(bleu.format(),
            "BLEU = 23.64 60.0/25.0/16.7/12.5 (BP = 1.000 ratio = 1.000 "
            "hyp_len = 5 ref_len = 5)");
}

TEST(CorpusBleu, OtherSmoothingMethodsOnTheSameSentence) {
  const std::vector<std::string> hyp = {"the cat ran fast today"};
  const std::vector<std::string> ref = {"the cat sat down today"};
  BleuOptions options;
  // none: the zero 3- and 4-gram precisions make the score 0.
  options.smoothing = BleuSmoothing::kNone;
  EXPECT_EQ(corpus_bleu(hyp, ref, options).score, 0.0);
  // floor 0.1: 3-grams 0.1/3 = 3.333%, 4-grams 0.1/2 = 5%:
  // BLEU = (60 * 25 * 3.3333 * 5)^(1/4) = 25000^(1/4) = 12.5743.
  options.smoothing = BleuSmoothing::kFloor;
  EXPECT_NEAR(corpus_bleu(hyp, ref, options).score, std::pow(25000.0, 0.25), 1e-9);
  // add-k 1 (orders >= 2): 2-grams 2/5, 3-grams 1/4, 4-grams 1/3 (1-grams unchanged 3/5):
  // BLEU = 100 * (0.6 * 0.4 * 0.25 * 1/3)^(1/4) = 100 * 0.02^(1/4) = 37.6060.
  options.smoothing = BleuSmoothing::kAddK;
  const BleuScore add_k = corpus_bleu(hyp, ref, options);
  EXPECT_NEAR(add_k.score, 100.0 * std::pow(0.02, 0.25), 1e-9);
  EXPECT_EQ(add_k.counts, (Counts{3, 1, 0, 0}));  // reported before adding k
  EXPECT_EQ(add_k.signature,
            "nrefs:1|case:mixed|eff:no|tok:13a|smooth:add-k[1.00]|version:2.x|"
            "impl:qkv");
}

TEST(CorpusBleu, FewerThanFourTokensScoresZeroWithoutEffectiveOrder) {
  // "a b" vs "a b": totals 2, 1, 0, 0. sacreBLEU stops at the first order without n-grams,
  // leaving precisions 3 and 4 at 0, whose floored log (-9999999999) makes BLEU 0.
  const BleuScore bleu = corpus_bleu({"a b"}, {"a b"});
  EXPECT_EQ(bleu.score, 0.0);
  EXPECT_EQ(bleu.precisions, (std::vector<double>{100.0, 100.0, 0.0, 0.0}));
  // With effective order, only orders 1 and 2 are averaged: BLEU = 100.
  BleuOptions options;
  options.effective_order = true;
  EXPECT_NEAR(corpus_bleu({"a b"}, {"a b"}, options).score, 100.0, 1e-9);
}

TEST(CorpusBleu, MultiLineCorpusSumsStatisticsBeforeTheMean) {
  // Line 1: perfect 4-token match: counts 4, 3, 2, 1 of totals 4, 3, 2, 1.
  // Line 2: "x y" vs "x z": counts 1, 0, 0, 0 of totals 2, 1, 0, 0 (lengths 2 and 2).
  // Corpus: counts 5, 3, 2, 1 of totals 6, 4, 2, 1; c = r = 6 so BP = 1;
  // BLEU = 100 * (5/6 * 3/4 * 2/2 * 1/1)^(1/4) = 100 * 0.625^(1/4) = 88.9140,
  // while the mean of the sentence BLEUs (100 and 0) would be 50.
  const BleuScore bleu = corpus_bleu({"a b c d", "x y"}, {"a b c d", "x z"});
  EXPECT_EQ(bleu.counts, (Counts{5, 3, 2, 1}));
  EXPECT_EQ(bleu.totals, (Counts{6, 4, 2, 1}));
  EXPECT_NEAR(bleu.score, 100.0 * std::pow(0.625, 0.25), 1e-9);
}

TEST(CorpusBleu, EmptyHypothesisLineCountsOnlyReferenceLength) {
  // Line 2's hypothesis is empty: it adds no n-grams and no hyp tokens, but its closest (and
  // only) reference length 3 still counts: c = 4, r = 7, BP = exp(1 - 7/4) = exp(-0.75).
  // Line 1 alone matches perfectly (4, 3, 2, 1), so BLEU = 100 * exp(-0.75) = 47.2367.
  const BleuScore bleu = corpus_bleu({"a b c d", ""}, {"a b c d", "e f g"});
  EXPECT_EQ(bleu.sys_len, 4);
  EXPECT_EQ(bleu.ref_len, 7);
  EXPECT_NEAR(bleu.score, 100.0 * std::exp(-0.75), 1e-9);
  // All hypotheses empty: BP = 0 and BLEU = 0.
  const BleuScore empty = corpus_bleu({"", ""}, {"a", "b"});
  EXPECT_EQ(empty.score, 0.0);
  EXPECT_EQ(empty.bp, 0.0);
}

TEST(CorpusBleu, ClippingCountsEachReferenceNgramAtMostAsOftenAsItOccurs) {
  // Papineni's example: "the the the the" vs "the cat": unigram "the" is clipped to 1 (1/4);
  // no higher-order match. exp smoothing: 2-grams 100/(2*3), 3-grams 100/(4*2),
  // 4-grams 100/(8*1). BP = 1 (c = 4 > r = 2). BLEU = (25 * 16.667 * 12.5 * 12.5)^(1/4).
  const BleuScore bleu = corpus_bleu({"the the the the"}, {"the cat"});
  EXPECT_EQ(bleu.counts, (Counts{1, 0, 0, 0}));
  EXPECT_NEAR(bleu.score, std::pow(25.0 * (100.0 / 6.0) * 12.5 * 12.5, 0.25), 1e-9);
}

TEST(CorpusBleu, UnicodePunctuationStaysAttachedUnder13a) {
  // 13a only splits ASCII punctuation. Hypothesis with ASCII quotes:
  //   "Hallo", sagte er.  ->  " Hallo " , sagte er .       (7 tokens)
  // reference with German quotes:
  //   „Hallo“, sagte er.  ->  „Hallo“ , sagte er .         (5 tokens)
  // matches: 1-grams , sagte er . = 4/7; 2-grams ", sagte" "sagte er" "er ." = 3/6;
  // 3-grams ", sagte er" "sagte er ." = 2/5; 4-grams ", sagte er ." = 1/4; BP = 1.
  // BLEU = 100 * (4/7 * 3/6 * 2/5 * 1/4)^(1/4) = 100 * (1/35)^(1/4) = 41.1134.
  const BleuScore bleu = corpus_bleu({"\"Hallo\", sagte er."}, {"„Hallo“, sagte er."});
  EXPECT_EQ(bleu.counts, (Counts{4, 3, 2, 1}));
  EXPECT_EQ(bleu.totals, (Counts{7, 6, 5, 4}));
  EXPECT_NEAR(bleu.score, 100.0 * std::pow(1.0 / 35.0, 0.25), 1e-9);
}

TEST(CorpusBleu, CaseMattersUnlessLowercased) {
  // "The Cat" vs "the cat": cased, no unigram matches -> 0 (and too short for 3/4-grams).
  // Lowercased with effective order: 2/2 and 1/1 -> 100.
  BleuOptions options;
  options.effective_order = true;
  EXPECT_EQ(corpus_bleu({"The Cat"}, {"the cat"}, options).score, 0.0);
  options.lowercase = true;
  EXPECT_NEAR(corpus_bleu({"The Cat"}, {"the cat"}, options).score, 100.0, 1e-9);
}

TEST(CorpusBleu, TokenizeNoneSplitsOnWhitespaceOnly) {
  // 13a: "end." -> "end ." matches the reference "end ." (2 tokens each, 2/2 and 1/1).
  // none: "end." is one token and matches nothing.
  BleuOptions options;
  options.effective_order = true;
  EXPECT_NEAR(corpus_bleu({"end."}, {"end ."}, options).score, 100.0, 1e-9);
  options.tokenizer = BleuTokenizer::kNone;
  EXPECT_EQ(corpus_bleu({"end."}, {"end ."}, options).score, 0.0);
  EXPECT_EQ(bleu_tokens("a  b\u00a0c ", options), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(CorpusBleu, MultipleReferencesUseMaxCountsAndClosestLength) {
  // Refs "a b" and "a a b c": "a a" matches only in ref 2, "a" may match twice (max count).
  // hyp "a a b": 1-grams 3/3, 2-grams "a a" and "a b" 2/2, 3-gram "a a b" 1/1 (ref 2).
  // Lengths 2 and 4 are both at distance 1 from 3: the shorter (2) is used -> BP = 1.
  const BleuScore bleu = corpus_bleu_multi({"a a b"}, {{"a b"}, {"a a b c"}});
  EXPECT_EQ(bleu.counts, (Counts{3, 2, 1, 0}));
  EXPECT_EQ(bleu.ref_len, 2);
  EXPECT_EQ(bleu.signature.substr(0, 8), "nrefs:2|");
}

TEST(CorpusBleu, SignatureAndFormatLikeSacrebleu) {
  const BleuScore bleu = corpus_bleu({"a b c d"}, {"a b c d"});
  EXPECT_EQ(bleu.signature, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x|impl:qkv");
  EXPECT_EQ(bleu.format_with_signature(1),
            "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x|impl:qkv = 100.0 "
            "100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 4 ref_len = 4)");
  BleuOptions options;
  options.lowercase = true;
  options.tokenizer = BleuTokenizer::kNone;
  options.smoothing = BleuSmoothing::kFloor;
  EXPECT_EQ(bleu_signature_fields(options), "case:lc|eff:no|tok:none|smooth:floor[0.10]");
}

TEST(CorpusBleu, ComputeBleuFromStatistics) {
  // sacreBLEU's BLEU.compute_bleu on given sums: counts 2, 1, 0, 0 of totals 3, 2, 1, 0:
  // order 3 is the first zero (100 / (2 * 1) = 50%), order 4 has no n-grams so the loop
  // stops and its precision stays 0 -> BLEU 0; c = 3 < r = 4 gives BP = exp(1 - 4/3).
  BleuStats stats;
  stats.sys_len = 3;
  stats.ref_len = 4;
  stats.counts = {2, 1, 0, 0};
  stats.totals = {3, 2, 1, 0};
  const BleuScore bleu = compute_bleu(stats);
  EXPECT_EQ(bleu.score, 0.0);
  EXPECT_NEAR(bleu.precisions[2], 50.0, 1e-12);
  EXPECT_NEAR(bleu.bp, std::exp(1.0 - 4.0 / 3.0), 1e-12);
  stats.counts.pop_back();
  EXPECT_THROW(compute_bleu(stats), std::invalid_argument);
}

TEST(CorpusBleu, RejectsBadInput) {
  EXPECT_THROW(corpus_bleu({"a", "b"}, {"a"}), std::invalid_argument);
  EXPECT_THROW(corpus_bleu({}, {}), std::invalid_argument);
  EXPECT_THROW(corpus_bleu({"a"}, {""}), std::invalid_argument);      // as sacreBLEU
  EXPECT_THROW(corpus_bleu({"\xC3"}, {"a"}), std::invalid_argument);  // truncated UTF-8
  BleuOptions options;
  options.max_ngram_order = 0;
  EXPECT_THROW(corpus_bleu({"a"}, {"a"}, options), std::invalid_argument);
  try {
    corpus_bleu({"a", "b"}, {"a", ""});
    FAIL() << "an empty reference must be rejected";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qkv
