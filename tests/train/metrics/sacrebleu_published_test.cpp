// Golden numbers from sacreBLEU's own test suite (mjpost/sacrebleu, 2.x: test/test_bleu.py and
// test/test_chrf.py): inputs and expected scores as sacreBLEU itself produced them, with the
// tolerances those tests use (1e-8 for BLEU, 1e-4 for chrF). They pin qkv to the real
// sacreBLEU, not only to our reading of its source.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "train/metrics/bleu.h"
#include "train/metrics/chrf.h"

namespace qkv {
namespace {

using Strings = std::vector<std::string>;

// The README example of test_bleu.py: three hypotheses, two reference streams.
const Strings kHyps = {
    "The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."};
const std::vector<Strings> kRefs = {
    {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
    {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}};

// sacrebleu.raw_corpus_bleu: no tokenization, floor smoothing, effective order.
BleuOptions raw_bleu_options(double floor) {
  BleuOptions options;
  options.tokenizer = BleuTokenizer::kNone;
  options.smoothing = BleuSmoothing::kFloor;
  options.smooth_value = floor;
  options.effective_order = true;
  return options;
}

TEST(SacrebleuPublished, CorpusBleuReadmeExample) {
  EXPECT_NEAR(corpus_bleu_multi(kHyps, kRefs).score, 48.530827, 1e-6);
  EXPECT_EQ(corpus_bleu_multi({"", "", ""}, kRefs).score, 0.0);
  BleuOptions none;
  none.tokenizer = BleuTokenizer::kNone;
  EXPECT_NEAR(corpus_bleu_multi(kHyps, kRefs, none).score, 49.1919566, 1e-6);
  BleuOptions no_smoothing;
  no_smoothing.smoothing = BleuSmoothing::kNone;
  EXPECT_NEAR(corpus_bleu_multi(kHyps, kRefs, no_smoothing).score, 48.530827, 1e-6);
}

TEST(SacrebleuPublished, MaxNgramOrder) {
  const std::vector<std::string> expected = {"77.65", "60.50", "53.93", "48.53", "46.14", "43.28"};
  for (int order = 1; order <= 6; ++order) {
    BleuOptions options;
    options.max_ngram_order = order;
    const BleuScore bleu = corpus_bleu_multi(kHyps, kRefs, options);
    EXPECT_EQ(bleu.format().substr(7, 5), expected[order - 1]) << "order " << order;
  }
}

TEST(SacrebleuPublished, RawCorpusBleu) {
  EXPECT_EQ(corpus_bleu({"this is a test", "another test"}, {"ref1", "ref2"}, raw_bleu_options(.01))
                .score,
            0.0);  // no match at all: 0 since sacreBLEU #141
  EXPECT_NEAR(corpus_bleu({"this is a test"}, {"this is a test"}, raw_bleu_options(.01)).score,
              100.0,
              1e-6);
  EXPECT_NEAR(corpus_bleu({"this is a fest"}, {"this is a test"}, raw_bleu_options(.01)).score,
              22.3606797749979,
              1e-6);
}

TEST(SacrebleuPublished, StatisticsAndFloorOffset) {
  const Strings hyp = {"am I am a character sequence"};
  const Strings ref = {"I am a symbol string sequence a a"};
  const BleuScore stats = corpus_bleu(hyp, ref, raw_bleu_options(.01));
  EXPECT_EQ(stats.counts, (std::vector<int64_t>{4, 2, 1, 0}));
  EXPECT_EQ(stats.totals, (std::vector<int64_t>{6, 5, 4, 3}));
  EXPECT_EQ(corpus_bleu(hyp, ref, raw_bleu_options(0.0)).score, 0.0);
  EXPECT_NEAR(corpus_bleu(hyp, ref, raw_bleu_options(0.1)).score, 15.55722182, 1e-6);
  BleuOptions default_floor = raw_bleu_options(0.1);
  default_floor.smooth_value.reset();  // sacreBLEU's floor default is 0.1
  EXPECT_NEAR(corpus_bleu(hyp, ref, default_floor).score, 15.55722182, 1e-6);
}

TEST(SacrebleuPublished, EffectiveOrder) {
  EXPECT_NEAR(
      corpus_bleu({"test"}, {"a test"}, raw_bleu_options(.01)).score, 36.78794411714425, 1e-6);
  EXPECT_NEAR(corpus_bleu({"a test"}, {"a test"}, raw_bleu_options(.01)).score, 100.0, 1e-6);
  EXPECT_NEAR(corpus_bleu({"a little test"}, {"a test"}, raw_bleu_options(.01)).score,
              3.218297948685433,
              1e-6);
}

TEST(SacrebleuPublished, ComputeBleuScoringAndDegenerateStatistics) {
  BleuOptions none;
  none.smoothing = BleuSmoothing::kNone;  // BLEU.compute_bleu's own default
  EXPECT_NEAR(compute_bleu({11, 11, {9, 7, 5, 3}, {10, 8, 6, 4}}, none).score, 83.75922397, 1e-6);
  struct Degenerate {
    BleuStats stats;
    double floor;
  };
  const std::vector<Degenerate> cases = {
      {{0, 1, {0, 0, 0, 0}, {4, 4, 2, 1}}, 0.0},
      {{14, 10, {0, 0, 0, 0}, {10, 11, 12, 0}}, 0.0},
      {{0, 0, {0, 0, 0, 0}, {0, 0, 0, 0}}, 0.0},
      {{6, 6, {6, 5, 4, 0}, {6, 5, 4, 3}}, 0.0},
      {{0, 0, {0, 0, 0, 0}, {0, 0, 0, 0}}, 0.1},
      {{1, 5, {0, 0, 0, 0}, {0, 0, 0, 0}}, 0.01},
  };
  for (const Degenerate& c : cases) {
    BleuOptions floor;
    floor.smoothing = BleuSmoothing::kFloor;
    floor.smooth_value = c.floor;
    EXPECT_EQ(compute_bleu(c.stats, floor).score, 0.0);
  }
}

// test_sentence_bleu.py (sacreBLEU issue #98): a Romanian sentence with comma-below and
// cedilla letters; sentence BLEU = corpus BLEU of one line with effective order.
TEST(SacrebleuPublished, SentenceBleuSmoothingVariants) {
  const Strings ref = {"producţia de zahăr brut se exprimă în zahăr alb;"};
  const Strings hyp = {"Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"};
  struct Case {
    BleuSmoothing smoothing;
    std::optional<double> value;
    BleuTokenizer tokenizer;
    double expected;
  };
  const std::vector<Case> cases = {
      {BleuSmoothing::kExp, std::nullopt, BleuTokenizer::k13a, 8.493},
      {BleuSmoothing::kNone, std::nullopt, BleuTokenizer::k13a, 0.0},
      {BleuSmoothing::kFloor, std::nullopt, BleuTokenizer::k13a, 4.51688},
      {BleuSmoothing::kFloor, 0.1, BleuTokenizer::k13a, 4.51688},
      {BleuSmoothing::kFloor, 0.5, BleuTokenizer::k13a, 10.10},
      {BleuSmoothing::kAddK, std::nullopt, BleuTokenizer::k13a, 14.882},
      {BleuSmoothing::kAddK, 1, BleuTokenizer::k13a, 14.882},
      {BleuSmoothing::kAddK, 2, BleuTokenizer::k13a, 21.389},
      {BleuSmoothing::kExp, std::nullopt, BleuTokenizer::kNone, 7.347},
  };
  for (const Case& c : cases) {
    BleuOptions options;
    options.smoothing = c.smoothing;
    options.smooth_value = c.value;
    options.tokenizer = c.tokenizer;
    options.effective_order = true;
    EXPECT_NEAR(corpus_bleu(hyp, ref, options).score, c.expected, 1e-3)
        << bleu_signature_fields(options);
  }
  // Issue #141: no match at all gives 0 whatever the smoothing.
  for (const BleuSmoothing smoothing :
       {BleuSmoothing::kExp, BleuSmoothing::kNone, BleuSmoothing::kFloor, BleuSmoothing::kAddK}) {
    BleuOptions options;
    options.smoothing = smoothing;
    options.effective_order = true;
    EXPECT_EQ(corpus_bleu({"this is a cat"}, {"okay thanks"}, options).score, 0.0);
  }
}

struct ChrfCase {
  Strings hyps;
  Strings refs;
  double expected;
};

TEST(SacrebleuPublished, ChrfEpsSmoothingBeta3) {
  const std::vector<ChrfCase> cases = {
      {{"abcdefg"}, {"hijklmnop"}, 0.0},
      {{"a"}, {"b"}, 0.0},
      {{""}, {"b"}, 0.0},
      {{""}, {"ref"}, 0.0},
      {{""}, {"reference"}, 0.0},
      {{"aa"}, {"ab"}, 8.3333},
      {{"a", "b"}, {"a", "c"}, 8.3333},
      {{"a"}, {"a"}, 16.6667},
      {{"a b c"}, {"a b c"}, 50.0},
      {{"a b c"}, {"abc"}, 50.0},
      {{" risk assessment must be made of those who are qualified and expertise in the sector - "
        "these are the scientists ."},
       {"risk assessment has to be undertaken by those who are qualified and expert in that area "
        "- that is the scientists ."},
       63.361730},
      {{" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "},
       {"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."},
       64.1302698},
      {{"Niemand hat die Absicht, eine Mauer zu errichten"},
       {"Niemand hat die Absicht, eine Mauer zu errichten"},
       100.0},
  };
  ChrfOptions options;
  options.beta = 3;
  options.eps_smoothing = true;
  for (const ChrfCase& c : cases) {
    EXPECT_NEAR(corpus_chrf(c.hyps, c.refs, options).score, c.expected, 1e-4) << c.hyps[0];
  }
}

TEST(SacrebleuPublished, ChrfEffectiveOrderBeta3) {
  const std::vector<ChrfCase> cases = {
      {{"a"}, {"a"}, 100.0},
      {{""}, {"reference"}, 0.0},
      {{"a b c"}, {"a b c"}, 100.0},
      {{"a b c"}, {"abc"}, 100.0},
      {{""}, {"c"}, 0.0},
      {{"a", "b"}, {"a", "c"}, 50.0},
      {{"aa"}, {"ab"}, 25.0},
  };
  ChrfOptions options;
  options.beta = 3;
  for (const ChrfCase& c : cases) {
    EXPECT_NEAR(corpus_chrf(c.hyps, c.refs, options).score, c.expected, 1e-4) << c.hyps[0];
  }
}

TEST(SacrebleuPublished, ChrfKeepWhitespaceBeta3) {
  ChrfOptions options;
  options.beta = 3;
  options.whitespace = true;
  EXPECT_NEAR(
      corpus_chrf(
          {"Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."},
          {"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."},
          options)
          .score,
      67.3481606,
      1e-4);
  EXPECT_NEAR(corpus_chrf({"risk assessment must be made of those who are qualified and expertise "
                           "in the sector - these are the scientists ."},
                          {"risk assessment has to be undertaken by those who are qualified and "
                           "expert in that area - that is the scientists ."},
                          options)
                  .score,
              65.2414427,
              1e-4);
}

TEST(SacrebleuPublished, SentenceChrfEpsSmoothing) {
  ChrfOptions options;
  options.eps_smoothing = true;
  EXPECT_NEAR(
      corpus_chrf({"Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře."},
                  {"Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo "
                   "zemře."},
                  options)
          .score,
      39.14078509,
      1e-4);
  EXPECT_NEAR(
      corpus_chrf({"Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři."},
                  {"A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři."},
                  options)
          .score,
      31.22557079,
      1e-4);
  EXPECT_NEAR(
      corpus_chrf({"Lapali po dechu, jejich životy skončily dřív, než skutečně začaly."},
                  {"Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, "
                   "připomněli."},
                  options)
          .score,
      57.15704367,
      1e-4);
}

}  // namespace
}  // namespace qkv
