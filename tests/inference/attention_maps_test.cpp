// inference/attention_maps: the collected maps are the model's (equal to a recompute from the
// recorded Q and K), have the documented shapes and token layout, respect the masks, and a
// decoded hypothesis's teacher-forced maps equal those of the incremental decoding that
// produced it. (The probe snapshots built on it: tests/app/export/probe_attention_test.cpp.)
#include "inference/attention_maps.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/special_tokens.h"
#include "inference/translator.h"
#include "model/search.h"
#include "tests/inference/inference_test_util.h"

namespace qkv {
namespace {

using test::content_ids;
using test::tiny_model;

// softmax(q k^T / sqrt(Dh)) with the causal mask for decoder self-attention: [H, Tq, Tk].
torch::Tensor recompute(const SiteAttention& site) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(site.query.size(-1)));
  auto scores = torch::matmul(site.query.to(torch::kFloat64),
                              site.key.to(torch::kFloat64).transpose(-2, -1)) *
                scale;  // [H, Tq, Tk]
  if (site.type == AttentionType::kDecoderSelf) {
    const auto future = torch::ones({scores.size(1), scores.size(2)}, torch::kBool).triu(1);
    scores = scores.masked_fill(future, -std::numeric_limits<double>::infinity());
  }
  return torch::softmax(scores, /*dim=*/-1).to(torch::kFloat32);
}

TEST(RecordTeacherForced, PaddedSourceKeysGetExactlyZeroAndEveryRowSumsToOne) {
  Transformer model = tiny_model();
  // Row 1 has one source pad (column 3) and one target pad (column 2).
  const auto src = torch::tensor({5, 6, 7, 3, 8, 9, 3, 0}, torch::kLong).view({2, 4});
  const auto tgt_in = torch::tensor({2, 5, 6, 2, 8, 0}, torch::kLong).view({2, 3});
  const AttentionRecorder recorder = record_teacher_forced(model, src, tgt_in, false);
  for (const std::string site : {"encoder.0.self_attn", "decoder.1.cross_attn"}) {
    const auto weights = recorder.at(site).at(0).weights;  // [B, H, Tq, 4]
    EXPECT_TRUE(torch::all(weights[1].select(-1, 3) == 0).item<bool>()) << site;
    EXPECT_TRUE(torch::all(weights[0].select(-1, 3) > 0).item<bool>()) << site;
  }
  const auto target_self = recorder.at("decoder.0.self_attn").at(0).weights;  // [B, H, 3, 3]
  EXPECT_TRUE(torch::all(target_self[1].select(-1, 2) == 0).item<bool>());
  for (const auto& [site, records] : recorder.records()) {
    ASSERT_EQ(records.size(), 1u) << site;
    const auto sums = records[0].weights.sum(-1);
    EXPECT_TRUE(torch::allclose(sums, torch::ones_like(sums), 1e-5, 1e-6)) << site;
  }
}

TEST(CollectAttention, SitesInForwardOrderWithDocumentedShapesAndTokenLayout) {
  Transformer model = tiny_model();
  const SentenceAttention sentence =
      collect_attention(model, {content_ids(5), {9, 8, 7}, true}, true);
  EXPECT_EQ(sentence.source_ids, (std::vector<int64_t>{4, 5, 6, 7, 8, kEosId}));
  EXPECT_EQ(sentence.target_ids, (std::vector<int64_t>{kBosId, 9, 8, 7}));
  EXPECT_EQ(sentence.predicted_ids, (std::vector<int64_t>{9, 8, 7, kEosId}));
  const std::vector<std::string> expected = {"encoder.0.self_attn",
                                             "encoder.1.self_attn",
                                             "decoder.0.self_attn",
                                             "decoder.0.cross_attn",
                                             "decoder.1.self_attn",
                                             "decoder.1.cross_attn"};
  ASSERT_EQ(sentence.sites.size(), expected.size());
  const int64_t heads = 2, dh = 8, s = 6, t = 4;
  for (size_t i = 0; i < expected.size(); ++i) {
    const SiteAttention& site = sentence.sites[i];
    EXPECT_EQ(site.site, expected[i]);
    const int64_t tq = site.type == AttentionType::kEncoderSelf ? s : t;
    const int64_t tk = site.type == AttentionType::kDecoderSelf ? t : s;
    EXPECT_EQ(site.weights.sizes(), (std::vector<int64_t>{heads, tq, tk})) << site.site;
    EXPECT_EQ(site.query.sizes(), (std::vector<int64_t>{heads, tq, dh})) << site.site;
    EXPECT_EQ(site.key.sizes(), (std::vector<int64_t>{heads, tk, dh})) << site.site;
    EXPECT_EQ(site.value.sizes(), (std::vector<int64_t>{heads, tk, dh})) << site.site;
    EXPECT_EQ(site.output.sizes(), (std::vector<int64_t>{heads, tq, dh})) << site.site;
  }
  EXPECT_EQ(sentence.at("decoder.1.cross_attn").layer, 1);
  EXPECT_EQ(sentence.d_head(), dh);
  EXPECT_THROW(sentence.at("decoder.2.cross_attn"), std::out_of_range);
}

TEST(CollectAttention, WeightsEqualSoftmaxOfRecordedQueriesAndKeysAndOutputsTheirSumOfValues) {
  Transformer model = tiny_model(3);
  const SentenceAttention sentence =
      collect_attention(model, {content_ids(7), content_ids(5, 12), true}, true);
  for (const SiteAttention& site : sentence.sites) {
    EXPECT_TRUE(torch::allclose(site.weights, recompute(site), 1e-5, 1e-5)) << site.site;
    const auto sums = site.weights.sum(-1);
    EXPECT_TRUE(torch::allclose(sums, torch::ones_like(sums), 1e-5, 1e-6)) << site.site;
    EXPECT_TRUE(torch::allclose(torch::matmul(site.weights, site.value), site.output, 1e-5, 1e-5))
        << site.site;
  }
}

TEST(CollectAttention, DecoderSelfAttentionIsLowerTriangular) {
  Transformer model = tiny_model(4);
  const SentenceAttention sentence =
      collect_attention(model, {content_ids(4), content_ids(6), true}, false);
  for (const SiteAttention& site : sentence.sites) {
    if (site.type != AttentionType::kDecoderSelf) continue;
    EXPECT_TRUE(torch::all(site.weights.triu(1) == 0).item<bool>()) << site.site;
    const auto allowed =
        torch::ones({site.weights.size(1), site.weights.size(2)}, torch::kBool).tril();
    EXPECT_TRUE(torch::all(site.weights.masked_select(allowed) > 0).item<bool>()) << site.site;
    EXPECT_FALSE(site.has_projections());
  }
}

TEST(CollectAttention, UnfinishedTargetFeedsAllButItsLastToken) {
  Transformer model = tiny_model();
  const SentenceAttention sentence = collect_attention(model, {{4, 5}, {9, 8, 7}, false}, false);
  EXPECT_FALSE(sentence.finished);
  EXPECT_EQ(sentence.target_ids, (std::vector<int64_t>{kBosId, 9, 8}));
  EXPECT_EQ(sentence.predicted_ids, (std::vector<int64_t>{9, 8, 7}));
  EXPECT_EQ(sentence.at("decoder.0.cross_attn").weights.size(1), 3);
}

TEST(CollectAttention, RejectsEmptySourceUnknownIdsAndTooLongSequences) {
  Transformer model = tiny_model();
  EXPECT_THROW(collect_attention(model, {{}, {5}, true}, false), std::invalid_argument);
  EXPECT_THROW(collect_attention(model, {{4, test::kVocab}, {5}, true}, false),
               std::invalid_argument);
  EXPECT_THROW(collect_attention(model, {{4}, {}, false}, false), std::invalid_argument);
  EXPECT_THROW(collect_attention(model, {content_ids(64), {5}, true}, false),
               std::invalid_argument);
}

// The maps of a decoded hypothesis, recorded by one teacher-forced pass, are the maps the
// KV-cached search computed step by step while producing it.
TEST(CollectAttention, TeacherForcedMapsEqualThoseOfTheIncrementalGreedySearch) {
  Transformer model = tiny_model(5);
  const auto source = content_ids(6, 7);
  SearchOptions options;
  options.max_length_ratio = 1.0;
  options.max_length_offset = 3;
  AttentionRecorder recorder(AttentionRecorderOptions{true, true});
  SearchResult found;
  {
    AttentionRecordingScope scope(model, recorder);
    auto src = torch::tensor(source, torch::kLong);
    src = torch::cat({src, torch::tensor({kEosId}, torch::kLong)}).unsqueeze(0);  // [1, S]
    found = greedy_search(*model, src, options);
  }
  const Hypothesis& best = found.at(0).at(0);
  const SentenceAttention sentence =
      collect_attention(model, {source, best.tokens, best.finished}, true);
  for (const SiteAttention& site : sentence.sites) {
    const auto& steps = recorder.at(site.site);
    const AttentionRecord joined =
        site.type == AttentionType::kEncoderSelf ? steps.at(0) : concat_step_records(steps);
    EXPECT_TRUE(torch::allclose(joined.weights[0], site.weights, 1e-5, 1e-5)) << site.site;
    EXPECT_TRUE(torch::allclose(joined.head_outputs[0], site.output, 1e-5, 1e-5)) << site.site;
  }
}

class SentenceAttentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir("sentence_attention");
    tokenizer_ = test::fixture_tokenizer(dir_);
    torch::manual_seed(2);
    model_ = Transformer(test::tiny_config(), tokenizer_->vocab_size(), kPadId);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Transformer model_{nullptr};
};

TEST_F(SentenceAttentionTest, ForcedAndDecodedSentencesCarryTheirPieces) {
  const SentenceAttention forced = collect_forced_attention(
      model_, *tokenizer_, "The house is big.", "Das Haus ist groß.", false);
  EXPECT_TRUE(forced.forced);
  EXPECT_EQ(forced.source_tokens.back(), "</s>");
  EXPECT_EQ(forced.target_tokens.front(), "<s>");
  EXPECT_EQ(forced.predicted_tokens.back(), "</s>");
  EXPECT_EQ(forced.source_tokens.size(), tokenizer_->pieces("The house is big.").size() + 1);
  EXPECT_EQ(forced.target_tokens.size(), tokenizer_->pieces("Das Haus ist groß.").size() + 1);

  Translator translator(model_, *tokenizer_);
  TranslateOptions options;
  options.decode.beam_size = 3;
  const SentenceAttention decoded =
      collect_decoded_attention(translator, "My sister reads a book.", options, false);
  EXPECT_FALSE(decoded.forced);
  EXPECT_EQ(decoded.target_text,
            translator.translate({"My sister reads a book."}, options)[0][0].text);
  EXPECT_EQ(decoded.target_tokens.size(), decoded.predicted_tokens.size());
  EXPECT_THROW(collect_decoded_attention(translator, "", options, false), std::invalid_argument);
}

}  // namespace
}  // namespace qkv
