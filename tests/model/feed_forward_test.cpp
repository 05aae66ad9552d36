// Tests of model/feed_forward against the written-out formula.
#include "model/feed_forward.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace qkv {
namespace {

TEST(FeedForward, EqualsLinearReluLinear) {
  torch::manual_seed(1);
  FeedForward ffn(FeedForwardOptions{8, 32, /*dropout=*/0.5});
  ffn->eval();  // dropout off
  auto x = torch::randn({2, 5, 8});
  namespace F = torch::nn::functional;
  auto hidden = torch::relu(F::linear(x, ffn->up_proj()->weight, ffn->up_proj()->bias));
  auto expected = F::linear(hidden, ffn->down_proj()->weight, ffn->down_proj()->bias);
  EXPECT_TRUE(torch::allclose(ffn(x), expected, 1e-6, 1e-6));
  EXPECT_EQ(ffn->named_parameters().size(), 4u);
  ffn->train();
  EXPECT_FALSE(torch::allclose(ffn(x), expected));  // dropout on the hidden layer
}

}  // namespace
}  // namespace qkv
