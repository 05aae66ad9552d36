// Tests of model/torch_compat: each LibTorch-version difference does the same on 1.13 and 2.x.
#include "model/torch_compat.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/attention.h"

namespace qkv {
namespace {

TEST(TorchCompat, OptimizerStateKeyFindsAdamsStateOfEachParameter) {
  torch::nn::Linear linear(3, 2);
  torch::optim::Adam adam(linear->parameters(), torch::optim::AdamOptions(0.1));
  linear(torch::randn({4, 3})).sum().backward();
  adam.step();
  for (const auto& parameter : linear->parameters()) {
    const auto it = adam.state().find(torch_compat::optimizer_state_key(parameter));
    ASSERT_NE(it, adam.state().end());
    const auto& state = static_cast<const torch::optim::AdamParamState&>(*it->second);
    EXPECT_EQ(state.exp_avg().sizes(), parameter.sizes());
  }
}

TEST(TorchCompat, ScaledDotProductAttentionIsTheDefinitionWithTheSameMaskPolarity) {
  torch::manual_seed(0);
  const auto q = torch::randn({2, 3, 4, 8}), k = torch::randn({2, 3, 6, 8}),
             v = torch::randn({2, 3, 6, 8});
  const auto keep = torch::tensor({1, 1, 1, 0, 1, 0}, torch::kBool).view({1, 1, 1, 6});
  const auto fused = torch_compat::scaled_dot_product_attention(q, k, v, keep, 0.0);
  if (!torch_compat::kHasScaledDotProductAttention) {
    EXPECT_FALSE(fused.has_value());
    GTEST_SKIP() << "LibTorch " << TORCH_VERSION << " has no scaled_dot_product_attention";
  }
  ASSERT_TRUE(fused.has_value());
  const auto definition = torch::matmul(attention_weights(q, k, keep), v);
  EXPECT_TRUE(torch::allclose(*fused, definition, 1e-5, 1e-6));
  const auto unmasked = torch_compat::scaled_dot_product_attention(q, k, v, {}, 0.0);
  EXPECT_TRUE(
      torch::allclose(*unmasked, torch::matmul(attention_weights(q, k, {}), v), 1e-5, 1e-6));
}

TEST(TorchCompat, AutocastSwitchesOnAndOff) {
  ASSERT_FALSE(torch_compat::autocast_enabled(torch::kCPU));
  torch_compat::enable_autocast(torch::kCPU, torch::kBFloat16);
  EXPECT_TRUE(torch_compat::autocast_enabled(torch::kCPU));
  torch_compat::disable_autocast(torch::kCPU);
  EXPECT_FALSE(torch_compat::autocast_enabled(torch::kCPU));
}

}  // namespace
}  // namespace qkv
