// Tests of TransformerImpl::set_head_mask (head_mask.h): no mask changes nothing, a switched-off
// head equals a model whose output projection never sees that head (its weight columns zeroed:
// a reference built without the mask code), in the teacher-forced pass and in greedy, beam and
// KV-cached decoding, through the fused kernel and the reference paths.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "model/head_mask.h"
#include "model/kernels/dispatch.h"
#include "model/search.h"
#include "model/transformer.h"
#include "tests/model/model_test_util.h"

namespace qkv {
namespace {

using test::kPad;
using test::random_tokens;
using test::search_options;
using test::small_config;

constexpr int64_t kVocab = 9;  // small: EOS comes up now and then in an untrained model
constexpr uint64_t kSeed = 7;

Transformer make_model() {
  torch::manual_seed(kSeed);
  Transformer model(small_config(), kVocab, kPad);
  model->eval();
  return model;
}

// The reference: zeroes the columns of `site`'s output projection that read `heads`, so that
// the heads' outputs never reach the residual stream. "decoder.1.cross_attn" is the parameter
// "decoder.layers.1.cross_attn.output_proj.weight" [D, D]; head h owns columns h*Dh..(h+1)*Dh.
void zero_head_columns(Transformer& model,
                       const std::string& site,
                       const std::vector<int64_t>& heads) {
  torch::NoGradGuard no_grad;
  const auto dot = site.find('.');
  const std::string name =
      site.substr(0, dot) + ".layers" + site.substr(dot) + ".output_proj.weight";
  auto weight = model->named_parameters()[name];
  const int64_t head_width = weight.size(1) / model->config().num_heads;
  for (int64_t head : heads) weight.narrow(1, head * head_width, head_width).zero_();
}

struct Inputs {
  torch::Tensor src = random_tokens({5, 3}, kVocab);     // [2, 5]
  torch::Tensor tgt_in = random_tokens({4, 6}, kVocab);  // [2, 6]
};

torch::Tensor logits_of(Transformer& model, const Inputs& in) {
  torch::NoGradGuard no_grad;
  return model->forward(in.src, in.tgt_in);  // [B, T, V]
}

void expect_same_hypotheses(const SearchResult& a, const SearchResult& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size());
    for (size_t j = 0; j < a[i].size(); ++j) {
      EXPECT_EQ(a[i][j].tokens, b[i][j].tokens) << "sentence " << i << " hypothesis " << j;
      EXPECT_NEAR(a[i][j].score, b[i][j].score, 1e-4);
    }
  }
}

// Fused CPU attention kernel on and off (off: LibTorch's scaled_dot_product_attention).
class HeadMaskTest : public ::testing::TestWithParam<bool> {
 protected:
  ScopedFusedKernels kernels_{GetParam()};
  Inputs in_;
};

TEST_P(HeadMaskTest, NoMaskIsBitIdentical) {
  Transformer model = make_model();
  const auto before = logits_of(model, in_);
  const auto greedy_before = greedy_search(*model, in_.src, search_options(1));
  model->set_head_mask(parse_head_mask("decoder.0.cross_attn:1;encoder.1.self_attn:0,2"));
  EXPECT_FALSE(torch::equal(logits_of(model, in_), before));  // the mask did something
  model->set_head_mask(HeadMask{});
  EXPECT_TRUE(model->head_mask().empty());
  EXPECT_TRUE(torch::equal(logits_of(model, in_), before));
  const auto greedy_after = greedy_search(*model, in_.src, search_options(1));
  for (size_t i = 0; i < greedy_before.size(); ++i) {
    EXPECT_EQ(greedy_after[i][0].tokens, greedy_before[i][0].tokens);
    EXPECT_EQ(greedy_after[i][0].score, greedy_before[i][0].score);
  }
}

TEST_P(HeadMaskTest, AllHeadsOfASiteEqualAZeroAttentionOutput) {
  Transformer unmasked = make_model();
  for (const std::string site :
       {"encoder.0.self_attn", "decoder.1.self_attn", "decoder.0.cross_attn"}) {
    Transformer masked = make_model();
    masked->set_head_mask(parse_head_mask(site + ":0,1,2,3"));
    Transformer reference = make_model();
    zero_head_columns(reference, site, {0, 1, 2, 3});
    const auto got = logits_of(masked, in_);
    EXPECT_TRUE(torch::allclose(got, logits_of(reference, in_), 1e-5, 1e-6)) << site;
    EXPECT_FALSE(torch::allclose(got, logits_of(unmasked, in_), 1e-5, 1e-6)) << site;
  }
}

TEST_P(HeadMaskTest, OneHeadEqualsItsOutputProjectionColumnsZeroed) {
  const std::string spec = "encoder.1.self_attn:2;decoder.0.self_attn:0;decoder.1.cross_attn:1,3";
  Transformer masked = make_model();
  masked->set_head_mask(parse_head_mask(spec));
  Transformer reference = make_model();
  for (const auto& [site, heads] : parse_head_mask(spec).heads_off) {
    zero_head_columns(reference, site, heads);
  }
  EXPECT_TRUE(torch::allclose(logits_of(masked, in_), logits_of(reference, in_), 1e-5, 1e-6));
}

TEST_P(HeadMaskTest, AppliesInGreedyBeamAndCachedDecoding) {
  const HeadMask mask = parse_head_mask("decoder.0.cross_attn:0,2;decoder.1.self_attn:1");
  Transformer masked = make_model();
  masked->set_head_mask(mask);
  Transformer reference = make_model();
  for (const auto& [site, heads] : mask.heads_off) zero_head_columns(reference, site, heads);
  torch::NoGradGuard no_grad;
  for (int64_t beam : {1, 3}) {
    expect_same_hypotheses(search(*masked, in_.src, search_options(beam)),
                           search(*reference, in_.src, search_options(beam)));
  }
  // Cached steps: every step's logits equal the masked teacher-forced pass over the prefix
  // (targets without padding: cached steps attend to every earlier token).
  Inputs unpadded;
  unpadded.tgt_in = random_tokens({6, 6}, kVocab);                        // [2, 6]
  const auto src_keep = unpadded.src.ne(kPad).unsqueeze(1).unsqueeze(1);  // [B, 1, 1, S]
  DecoderState state = masked->start_decoding(masked->encode(unpadded.src, src_keep), src_keep);
  const auto full = logits_of(masked, unpadded);  // [B, T, V]
  for (int64_t t = 0; t < unpadded.tgt_in.size(1); ++t) {
    const auto step = masked->decode_step(unpadded.tgt_in.select(1, t), state);  // [B, V]
    EXPECT_TRUE(torch::allclose(step, full.select(1, t), 1e-4, 1e-5)) << "step " << t;
  }
}

TEST_P(HeadMaskTest, RecordedHeadOutputsAreZeroAndMapsStay) {
  Transformer masked = make_model();
  masked->set_head_mask(parse_head_mask("decoder.1.cross_attn:2"));
  Transformer reference = make_model();
  zero_head_columns(reference, "decoder.1.cross_attn", {2});
  AttentionRecorder recorder(AttentionRecorderOptions{/*keep_projections=*/true});
  torch::Tensor got;
  {
    AttentionRecordingScope scope(masked, recorder);  // the path that materialises weights
    got = logits_of(masked, in_);
  }
  EXPECT_TRUE(torch::allclose(got, logits_of(reference, in_), 1e-5, 1e-6));
  const AttentionRecord& record = recorder.at("decoder.1.cross_attn").front();
  EXPECT_TRUE(record.head_outputs.select(1, 2).eq(0).all().item<bool>());
  EXPECT_FALSE(record.head_outputs.select(1, 1).eq(0).all().item<bool>());
  // The switched-off head still looks somewhere: its weights rows sum to 1.
  EXPECT_TRUE(
      torch::allclose(record.weights.select(1, 2).sum(-1), torch::ones({2, in_.tgt_in.size(1)})));
}

INSTANTIATE_TEST_SUITE_P(FusedAndReference,
                         HeadMaskTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "Fused" : "Reference";
                         });

TEST(HeadMask, ScopePutsThePreviousMaskBack) {
  Transformer model = make_model();
  const HeadMask outer = parse_head_mask("encoder.0.self_attn:1");
  model->set_head_mask(outer);
  Inputs in;
  const auto before = logits_of(model, in);
  {
    HeadMaskScope scope(model, parse_head_mask("decoder.1.cross_attn:0,3"));
    EXPECT_EQ(model->head_mask().heads_off, parse_head_mask("decoder.1.cross_attn:0,3").heads_off);
    EXPECT_FALSE(torch::equal(logits_of(model, in), before));
  }
  EXPECT_EQ(model->head_mask().heads_off, outer.heads_off);
  EXPECT_TRUE(torch::equal(logits_of(model, in), before));
}

TEST(HeadMask, BadMaskChangesNothing) {
  Transformer model = make_model();
  Inputs in;
  const auto before = logits_of(model, in);
  // The first site is valid, the second is not: nothing may be half applied.
  EXPECT_THROW(model->set_head_mask(parse_head_mask("encoder.0.self_attn:0;decoder.5.self_attn:0")),
               std::invalid_argument);
  EXPECT_THROW(model->set_head_mask(parse_head_mask("encoder.0.self_attn:4")),
               std::invalid_argument);
  EXPECT_TRUE(model->head_mask().empty());
  EXPECT_TRUE(torch::equal(logits_of(model, in), before));
}

}  // namespace
}  // namespace qkv
