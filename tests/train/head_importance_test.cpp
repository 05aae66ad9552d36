// train/head_importance: each importance is the metric with that mask applied through
// set_head_mask, computed here independently (validate() for the loss, evaluate() for chrF),
// minus the metric with every head on; the pruning curve starts at the full model, has one
// point per head and switches heads off in ascending loss importance.
#include "train/head_importance.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "data/dataset.h"
#include "data/special_tokens.h"
#include "inference/evaluation.h"
#include "tests/inference/inference_test_util.h"
#include "train/validation.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

class HeadImportanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir("head_importance");
    tokenizer_ = test::fixture_tokenizer(dir_);
    pairs_ = {{"The house is big.", "Das Haus ist groß."},
              {"I drink tea.", "Ich trinke Tee."},
              {"The cat sleeps.", "Die Katze schläft."},
              {"Where is the station?", "Wo ist der Bahnhof?"}};
    torch::manual_seed(5);
    model_ = Transformer(test::tiny_config(), tokenizer_->vocab_size(), kPadId);
    model_->eval();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The loss over every pair with `mask` set directly on the model.
  double loss_with(const HeadMask& mask) {
    model_->set_head_mask(mask);
    Translator translator(model_, *tokenizer_);
    const auto examples = encode_corpus(pairs_, *tokenizer_, /*max_length=*/0).examples;
    const double loss = validate(translator, examples, {}, 0, 4096).loss;
    model_->set_head_mask(HeadMask{});
    return loss;
  }

  // Greedy chrF of the first `count` pairs with `mask` set directly on the model.
  double chrf_with(const HeadMask& mask, size_t count) {
    model_->set_head_mask(mask);
    Translator translator(model_, *tokenizer_);
    std::vector<std::string> sources, references;
    for (size_t i = 0; i < count; ++i) {
      sources.push_back(pairs_[i].source);
      references.push_back(pairs_[i].target);
    }
    TranslateOptions greedy;
    greedy.decode.beam_size = 1;
    const double chrf = evaluate(translator, sources, references, greedy).chrf.score;
    model_->set_head_mask(HeadMask{});
    return chrf;
  }

  HeadStudy study(HeadMetric metric, int64_t sentences) {
    Translator translator(model_, *tokenizer_);
    HeadStudyOptions options;
    options.metric = metric;
    options.sentences = sentences;
    return study_heads(translator, pairs_, options);
  }

  fs::path dir_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<SentencePair> pairs_;
  Transformer model_{nullptr};
};

TEST_F(HeadImportanceTest, ImportanceIsTheMaskedMetricMinusTheFullOne) {
  const HeadStudy s = study(HeadMetric::kChrf, /*sentences=*/3);
  // 2 + 2 layers of 2 heads: 2 encoder sites, 4 decoder sites.
  ASSERT_EQ(s.sites.size(), 6u);
  ASSERT_EQ(s.heads.size(), 12u);
  EXPECT_EQ(s.metric_sentences, 3);
  EXPECT_EQ(s.loss_sentences, 4);
  const double full_loss = loss_with(HeadMask{});
  const double full_chrf = chrf_with(HeadMask{}, 3);
  EXPECT_DOUBLE_EQ(s.full.loss, full_loss);
  EXPECT_DOUBLE_EQ(s.full.metric, full_chrf);
  bool some_head_matters = false;
  for (const auto& head : s.heads) {
    EXPECT_NEAR(head.loss_importance, loss_with(head.mask) - full_loss, 1e-12) << head.name;
    EXPECT_NEAR(head.importance, chrf_with(head.mask, 3) - full_chrf, 1e-9) << head.name;
    some_head_matters = some_head_matters || head.loss_importance != 0;
  }
  EXPECT_TRUE(some_head_matters);
  EXPECT_EQ(s.heads[3].name, "encoder.1.self_attn:1");
  EXPECT_EQ(s.heads[3].mask.heads_off,
            (std::map<std::string, std::vector<int64_t>>{{"encoder.1.self_attn", {1}}}));
}

TEST_F(HeadImportanceTest, SitesAndLayersSwitchOffAllTheirHeads) {
  const HeadStudy s = study(HeadMetric::kLoss, /*sentences=*/1);
  EXPECT_EQ(s.metric_sentences, 0);  // the loss translates nothing
  ASSERT_EQ(s.sites_off.size(), 6u);
  ASSERT_EQ(s.layers_off.size(), 4u);
  const HeadMask site{{{"decoder.0.cross_attn", {0, 1}}}};
  EXPECT_EQ(s.sites_off[3].name, "decoder.0.cross_attn");
  EXPECT_EQ(s.sites_off[3].mask.heads_off, site.heads_off);
  const HeadMask layer{{{"decoder.1.cross_attn", {0, 1}}, {"decoder.1.self_attn", {0, 1}}}};
  EXPECT_EQ(s.layers_off[3].name, "decoder.1");
  EXPECT_EQ(s.layers_off[3].mask.heads_off, layer.heads_off);
  const double full = loss_with(HeadMask{});
  EXPECT_NEAR(s.sites_off[3].importance, loss_with(site) - full, 1e-12);
  EXPECT_NEAR(s.layers_off[3].importance, loss_with(layer) - full, 1e-12);
  for (const auto& head : s.heads) EXPECT_EQ(head.importance, head.loss_importance);
}

TEST_F(HeadImportanceTest, PruningStartsFullAndSwitchesOffInAscendingImportance) {
  const HeadStudy s = study(HeadMetric::kLoss, /*sentences=*/1);
  ASSERT_EQ(s.pruning.size(), s.heads.size() + 1);
  EXPECT_EQ(s.pruning[0].head, "");
  EXPECT_EQ(s.pruning[0].score.loss, s.full.loss);
  HeadMask off;
  double previous = -1e300;
  for (size_t i = 1; i < s.pruning.size(); ++i) {
    const auto head = std::find_if(s.heads.begin(), s.heads.end(), [&](const SwitchedOff& h) {
      return h.name == s.pruning[i].head;
    });
    ASSERT_NE(head, s.heads.end()) << s.pruning[i].head;
    EXPECT_GE(head->loss_importance, previous) << "step " << i;
    previous = head->loss_importance;
    for (const auto& [site, heads] : head->mask.heads_off) {
      auto& all = off.heads_off[site];
      all.insert(all.end(), heads.begin(), heads.end());
      std::sort(all.begin(), all.end());
    }
    if (i == 1 || i == 5 || i + 1 == s.pruning.size()) {
      EXPECT_NEAR(s.pruning[i].score.loss, loss_with(off), 1e-12) << "step " << i;
    }
  }
  EXPECT_EQ(off.heads_off.size(), 6u);  // every head of every site was switched off once
  EXPECT_TRUE(model_->head_mask().empty());
}

TEST_F(HeadImportanceTest, BadOptionsAreOneLine) {
  EXPECT_EQ(parse_head_metric("chrf"), HeadMetric::kChrf);
  try {
    parse_head_metric("ter");
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--metric: 'ter' is not one of: bleu, chrf, loss");
  }
  try {
    study(HeadMetric::kBleu, /*sentences=*/0);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--sentences: must be at least 1, got 0");
  }
}

}  // namespace
}  // namespace qkv
