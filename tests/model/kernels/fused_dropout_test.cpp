// Tests of model/kernels/fused_dropout: each kernel against the reference ops applied with the
// kernel's own keep mask (read back by dropping out a tensor of ones under the same seed), for
// values and gradients; and the kernels' preconditions.
#include "model/kernels/fused_dropout.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace qkv {
namespace {

constexpr double kP = 0.3;

// The kernel's mask (0 or 1 / (1 - p) per element) for tensors shaped like `like`, drawn
// after torch::manual_seed(seed): what fused_dropout would apply after the same reseed.
torch::Tensor mask_for(const torch::Tensor& like, uint64_t seed) {
  torch::manual_seed(seed);
  return fused_dropout(torch::ones_like(like), kP);
}

TEST(FusedDropout, EqualsInputTimesItsMaskAndTheGradientIsTheMask) {
  auto x = torch::randn({37, 129}, torch::requires_grad());  // odd sizes: vector tails
  const auto mask = mask_for(x, 1);
  torch::manual_seed(1);
  auto y = fused_dropout(x, kP);
  EXPECT_TRUE(torch::equal(y, x.detach() * mask));
  const auto kept = mask.ne(0).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(kept, 1.0 - kP, 0.01);
  auto upstream = torch::randn_like(y);
  (y * upstream).sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), upstream * mask));
}

TEST(FusedDropout, NonContiguousInputGivesTheSameValuesAsItsContiguousCopy) {
  auto x = torch::randn({20, 30}).t();  // [30, 20], transposed strides
  torch::manual_seed(2);
  auto from_view = fused_dropout(x, kP);
  torch::manual_seed(2);
  EXPECT_TRUE(torch::equal(from_view, fused_dropout(x.contiguous(), kP)));
}

TEST(FusedDropout, AddDropoutEqualsResidualPlusMaskedInputWithBothGradients) {
  auto x = torch::randn({10, 70}, torch::requires_grad());
  auto y = torch::randn({10, 70}, torch::requires_grad());
  const auto mask = mask_for(y, 3);
  torch::manual_seed(3);
  auto sum = fused_add_dropout(x, y, kP);
  EXPECT_TRUE(torch::equal(sum, x.detach() + y.detach() * mask));
  auto upstream = torch::randn_like(sum);
  (sum * upstream).sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), upstream));
  EXPECT_TRUE(torch::equal(y.grad(), upstream * mask));
}

TEST(FusedDropout, ReluDropoutEqualsMaskedReluWithItsGradient) {
  auto x = torch::randn({50, 40}, torch::requires_grad());
  const auto mask = mask_for(x, 4);
  torch::manual_seed(4);
  auto ours = fused_relu_dropout(x, kP);
  EXPECT_TRUE(torch::equal(ours, torch::relu(x.detach()) * mask));
  auto upstream = torch::randn_like(ours);
  (ours * upstream).sum().backward();
  auto expected = upstream * mask * (x.detach() > 0).to(torch::kFloat32);
  EXPECT_TRUE(torch::equal(x.grad(), expected));
}

TEST(FusedDropout, SupportsOnlyFloat32CpuTensorsOfOneShape) {
  auto x = torch::ones({4, 5});
  EXPECT_TRUE(fused_dropout_supports(x));
  EXPECT_FALSE(fused_dropout_supports(x.to(torch::kFloat64)));
  EXPECT_TRUE(fused_add_dropout_supports(x, x));
  EXPECT_FALSE(fused_add_dropout_supports(x, torch::ones({5, 4})));
  EXPECT_FALSE(fused_add_dropout_supports(x, x.to(torch::kFloat64)));
  EXPECT_THROW(fused_dropout(x.to(torch::kFloat64), kP), c10::Error);
  EXPECT_THROW(fused_add_dropout(x, torch::ones({20}), kP), c10::Error);
}

}  // namespace
}  // namespace qkv
