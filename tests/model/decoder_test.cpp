// Tests of model/decoder: one layer against reference ops (pre- and post-norm), the stack,
// and incremental steps against the full pass.
#include "model/decoder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "model/attention_recorder.h"
#include "model/masks.h"
#include "tests/model/layer_reference.h"

namespace qkv {
namespace {

using test::max_abs_diff;

class DecoderTest : public ::testing::TestWithParam<NormPosition> {};

TEST_P(DecoderTest, LayerMatchesReferenceOps) {
  torch::manual_seed(2);
  DecoderLayer layer(test::layer_test_options(GetParam()));
  test::randomise(*layer);
  layer->eval();
  auto y = torch::randn({2, 4, 16});
  auto memory = torch::randn({2, 6, 16});
  auto tgt = torch::tensor({{2, 5, 6, 7}, {2, 5, 0, 0}}, torch::kLong);
  auto src_keep = torch::tensor({{1, 1, 1, 1, 1, 1}, {1, 1, 0, 0, 0, 0}}).to(torch::kBool);
  auto ours = layer(y, memory, src_keep.view({2, 1, 1, 6}), make_target_mask(tgt, 0));
  auto h = test::reference_residual(
      y, layer->self_attn_norm(), GetParam(), [&](const torch::Tensor& in) {
        return test::reference_attention(*layer->self_attn(), in, in, in, tgt.ne(0), true).output;
      });
  h = test::reference_residual(
      h, layer->cross_attn_norm(), GetParam(), [&](const torch::Tensor& in) {
        return test::reference_attention(*layer->cross_attn(), in, memory, memory, src_keep, false)
            .output;
      });
  auto expected = test::reference_residual(
      h, layer->feed_forward_norm(), GetParam(), [&](const torch::Tensor& in) {
        return test::reference_feed_forward(in, *layer->feed_forward());
      });
  EXPECT_TRUE(torch::allclose(ours, expected, 1e-5, 1e-5)) << max_abs_diff(ours, expected);
}

TEST_P(DecoderTest, StepsEqualFullPassAndRecordSites) {
  torch::manual_seed(3);
  Decoder decoder(test::layer_test_options(GetParam()), 2);
  test::randomise(*decoder);
  decoder->eval();
  EXPECT_EQ(decoder->final_norm().is_empty(), GetParam() == NormPosition::kPost);
  auto y = torch::randn({2, 5, 16});
  auto memory = torch::randn({2, 3, 16});
  auto src_keep = torch::tensor({{1, 1, 1}, {1, 0, 0}}).to(torch::kBool).view({2, 1, 1, 3});
  auto full = decoder(y, memory, src_keep, make_causal_mask(5));  // [B, T, D]
  AttentionRecorder recorder;
  decoder->set_recorder(&recorder);
  torch::NoGradGuard no_grad;
  auto state = decoder->start(memory, src_keep);
  for (int64_t t = 0; t < 5; ++t) {
    auto step = decoder->step(y.narrow(1, t, 1), state);
    EXPECT_TRUE(torch::allclose(step, full.narrow(1, t, 1), 1e-5, 1e-5))
        << "step " << t << ": " << max_abs_diff(step, full.narrow(1, t, 1));
  }
  decoder->set_recorder(nullptr);
  EXPECT_EQ(recorder.sites(),
            (std::vector<std::string>{"decoder.0.cross_attn",
                                      "decoder.0.self_attn",
                                      "decoder.1.cross_attn",
                                      "decoder.1.self_attn"}));
  EXPECT_EQ(recorder.at("decoder.1.self_attn").at(4).weights.sizes(),
            (std::vector<int64_t>{2, 4, 1, 5}));
  EXPECT_EQ(recorder.at("decoder.1.cross_attn").at(4).weights.sizes(),
            (std::vector<int64_t>{2, 4, 1, 3}));
}

TEST(Decoder, StepRejectsMoreThanOnePosition) {
  Decoder decoder(test::layer_test_options(NormPosition::kPre), 1);
  torch::NoGradGuard no_grad;
  auto memory = torch::randn({1, 3, 16});
  auto state = decoder->start(memory, torch::ones({1, 1, 1, 3}, torch::kBool));
  EXPECT_THROW(decoder->step(torch::randn({1, 2, 16}), state), c10::Error);
}

INSTANTIATE_TEST_SUITE_P(Norms,
                         DecoderTest,
                         ::testing::Values(NormPosition::kPre, NormPosition::kPost),
                         [](const ::testing::TestParamInfo<NormPosition>& param_info) {
                           return param_info.param == NormPosition::kPre ? "PreNorm" : "PostNorm";
                         });

}  // namespace
}  // namespace qkv
