// Tests of model/dropout: torch::dropout's semantics (keep rate, scaling, identity outside
// training), repeatability under torch::manual_seed, and gradients through the mask, on both
// paths: the reference (torch ops) and the fused kernels (tested against the reference ops
// in kernels/fused_dropout_test.cpp).
#include "model/dropout.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/kernels/dispatch.h"

namespace qkv {
namespace {

class DropoutTest : public ::testing::TestWithParam<bool> {  // param: fused kernels on
 protected:
  ScopedFusedKernels kernels_{GetParam()};
};

TEST_P(DropoutTest, KeepsAboutOneMinusPAndScalesKeptValues) {
  torch::manual_seed(0);
  auto x = torch::ones({200000});
  for (double p : {0.1, 0.5}) {
    auto y = apply_dropout(x, p, /*training=*/true);
    const double kept = y.ne(0).to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(kept, 1.0 - p, 0.005) << p;
    auto nonzero = y.masked_select(y.ne(0));
    EXPECT_TRUE(torch::allclose(nonzero, torch::full_like(nonzero, 1.0 / (1.0 - p)))) << p;
  }
}

TEST_P(DropoutTest, IdentityOutsideTrainingOrWithZeroP) {
  auto x = torch::randn({4, 5});
  EXPECT_TRUE(torch::equal(apply_dropout(x, 0.3, false), x));
  EXPECT_TRUE(torch::equal(apply_dropout(x, 0.0, true), x));
  EXPECT_TRUE(torch::equal(add_dropout(x, x, 0.3, false), x + x));
  EXPECT_TRUE(torch::equal(relu_dropout(x, 0.3, false), torch::relu(x)));
}

TEST_P(DropoutTest, RepeatableUnderManualSeedAndDifferentPerCall) {
  auto x = torch::randn({1000});
  torch::manual_seed(5);
  auto a = apply_dropout(x, 0.5, true);
  auto b = apply_dropout(x, 0.5, true);
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(a, apply_dropout(x, 0.5, true)));
  EXPECT_FALSE(torch::equal(a, b));
}

TEST_P(DropoutTest, GradientIsTheScaledMaskOfTheForwardPass) {
  torch::manual_seed(1);
  auto x = torch::randn({64, 33}).abs().add_(0.1).requires_grad_(true);  // no zeros
  auto y = apply_dropout(x, 0.25, true);
  y.sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), y.detach() / x.detach()));  // mask / (1 - p)
}

TEST_P(DropoutTest, AddDropoutIsResidualPlusDropoutWithBothGradients) {
  auto x = torch::randn({10, 7}, torch::requires_grad());
  auto y = torch::randn({10, 7}).abs().add_(0.1).requires_grad_(true);
  torch::manual_seed(2);
  auto sum = add_dropout(x, y, 0.4, true);
  torch::manual_seed(2);
  auto expected = x.detach() + apply_dropout(y.detach(), 0.4, true);
  EXPECT_TRUE(torch::allclose(sum, expected));
  sum.sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), torch::ones_like(x)));
  EXPECT_TRUE(torch::allclose(y.grad(), (expected - x.detach()) / y.detach()));
}

TEST_P(DropoutTest, ReluDropoutMatchesReluThenDropoutAndItsGradient) {
  auto x = torch::randn({50, 40}, torch::requires_grad());
  torch::manual_seed(3);
  auto ours = relu_dropout(x, 0.2, true);
  torch::manual_seed(3);
  auto expected = apply_dropout(torch::relu(x.detach()), 0.2, true);
  EXPECT_TRUE(torch::allclose(ours, expected));
  ours.sum().backward();
  auto slope = (expected > 0).to(torch::kFloat32) / 0.8;  // relu' * mask / (1 - p)
  EXPECT_TRUE(torch::allclose(x.grad(), slope));
}

INSTANTIATE_TEST_SUITE_P(FusedAndReference,
                         DropoutTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "Fused" : "Reference";
                         });

TEST(Dropout, FallsBackToTorchDropoutForOtherTypes) {
  auto x = torch::ones({10000}, torch::kFloat64);
  auto y = apply_dropout(x, 0.5, true);
  EXPECT_EQ(y.scalar_type(), torch::kFloat64);
  EXPECT_NEAR(y.ne(0).to(torch::kFloat64).mean().item<double>(), 0.5, 0.03);
}

TEST(Dropout, ReferencePathIsTorchDropout) {
  // With the kernels off, the same seed gives torch::dropout's mask exactly.
  ScopedFusedKernels off(false);
  auto x = torch::randn({300});
  torch::manual_seed(6);
  auto ours = apply_dropout(x, 0.3, true);
  torch::manual_seed(6);
  EXPECT_TRUE(torch::equal(ours, torch::dropout(x, 0.3, true)));
}

}  // namespace
}  // namespace qkv
