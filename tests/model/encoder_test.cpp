// Tests of model/encoder: one layer and the stack against reference ops, pre- and post-norm.
#include "model/encoder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "model/attention_recorder.h"
#include "tests/model/layer_reference.h"

namespace qkv {
namespace {

using test::max_abs_diff;

class EncoderTest : public ::testing::TestWithParam<NormPosition> {};

TEST_P(EncoderTest, LayerMatchesReferenceOps) {
  torch::manual_seed(1);
  EncoderLayer layer(test::layer_test_options(GetParam()));
  test::randomise(*layer);
  layer->eval();
  auto x = torch::randn({2, 5, 16});
  auto key_keep = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}).to(torch::kBool);
  auto ours = layer(x, key_keep.view({2, 1, 1, 5}));
  auto& attention = *layer->self_attn();
  auto& ffn = *layer->feed_forward();
  auto h = test::reference_residual(
      x, layer->self_attn_norm(), GetParam(), [&](const torch::Tensor& in) {
        return test::reference_attention(attention, in, in, in, key_keep, false).output;
      });
  auto expected = test::reference_residual(
      h, layer->feed_forward_norm(), GetParam(), [&](const torch::Tensor& in) {
        return test::reference_feed_forward(in, ffn);
      });
  EXPECT_TRUE(torch::allclose(ours, expected, 1e-5, 1e-5)) << max_abs_diff(ours, expected);
}

TEST_P(EncoderTest, StackHasFinalNormOnlyForPreNorm) {
  Encoder encoder(test::layer_test_options(GetParam()), 2);
  EXPECT_EQ(encoder->num_layers(), 2);
  const bool has_final = !encoder->final_norm().is_empty();
  EXPECT_EQ(has_final, GetParam() == NormPosition::kPre);
  encoder->eval();
  auto x = torch::randn({1, 3, 16});
  auto keep = torch::ones({1, 1, 1, 3}, torch::kBool);
  auto h = encoder->layer(1).forward(encoder->layer(0).forward(x, keep), keep);
  if (has_final) {
    h = test::reference_layer_norm(h, encoder->final_norm());
  }
  EXPECT_TRUE(torch::allclose(encoder(x, keep), h, 1e-6, 1e-6));
}

TEST_P(EncoderTest, RecorderSitesAreNamedByLayer) {
  Encoder encoder(test::layer_test_options(GetParam()), 2);
  encoder->eval();
  AttentionRecorder recorder;
  encoder->set_recorder(&recorder);
  encoder(torch::randn({1, 3, 16}), torch::ones({1, 1, 1, 3}, torch::kBool));
  EXPECT_EQ(recorder.sites(),
            (std::vector<std::string>{"encoder.0.self_attn", "encoder.1.self_attn"}));
  encoder->set_recorder(nullptr);
  encoder(torch::randn({1, 3, 16}), torch::ones({1, 1, 1, 3}, torch::kBool));
  EXPECT_EQ(recorder.at("encoder.0.self_attn").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Norms,
                         EncoderTest,
                         ::testing::Values(NormPosition::kPre, NormPosition::kPost),
                         [](const ::testing::TestParamInfo<NormPosition>& param_info) {
                           return param_info.param == NormPosition::kPre ? "PreNorm" : "PostNorm";
                         });

}  // namespace
}  // namespace qkv
