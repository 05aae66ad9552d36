// Tests of train/loss: the label-smoothed loss against hand-computed values and LibTorch's
// cross_entropy(label_smoothing), on both paths (the definition in LibTorch ops, and the fused
// kernel of model/kernels/fused_loss.h, tested on its own in fused_loss_test.cpp).
#include "train/loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <utility>

#include "model/kernels/dispatch.h"

namespace qkv {
namespace {

TEST(LabelSmoothedLoss, HandComputedValue) {
  // One token, V = 3, logits 0 so p = 1/3 everywhere: -log p = log 3 for every class, so
  // the loss is log 3 whatever eps. Then logits (log 2, 0, 0): p = (1/2, 1/4, 1/4).
  // target 0, eps 0.3: 0.7 * log 2 + 0.3 * (log 2 + log 4 + log 4) / 3 = 0.7 log2 + 0.5 log2.
  auto logits = torch::tensor({std::log(2.0), 0.0, 0.0}, torch::kFloat64).view({1, 1, 3});
  auto targets = torch::tensor({0}, torch::kInt64).view({1, 1});
  auto loss = label_smoothed_loss(logits, targets, 0.3, /*pad_id=*/2);
  EXPECT_NEAR(loss.smoothed_sum.item<double>(), 1.2 * std::log(2.0), 1e-12);
  EXPECT_NEAR(loss.nll_sum.item<double>(), std::log(2.0), 1e-12);
  EXPECT_EQ(loss.num_tokens.item<int64_t>(), 1);
}

torch::Tensor torch_cross_entropy_sum(const torch::Tensor& logits,
                                      const torch::Tensor& targets,
                                      double eps) {
  namespace F = torch::nn::functional;
  return F::cross_entropy(
      logits.view({-1, logits.size(2)}),
      targets.view({-1}),
      F::CrossEntropyFuncOptions().ignore_index(0).label_smoothing(eps).reduction(torch::kSum));
}

TEST(LabelSmoothedLoss, MatchesTorchCrossEntropyAndIgnoresPadding) {
  torch::manual_seed(0);
  auto logits = torch::randn({3, 5, 11}, torch::kFloat64);
  auto targets = torch::randint(1, 11, {3, 5}, torch::kInt64);
  targets.index_put_({0, torch::indexing::Slice(3)}, 0);  // padding
  targets.index_put_({2, 4}, 0);
  for (double eps : {0.0, 0.1, 0.25}) {
    auto ours = label_smoothed_loss(logits, targets, eps, /*pad_id=*/0);
    auto reference = torch_cross_entropy_sum(logits, targets, eps);
    EXPECT_NEAR(ours.smoothed_sum.item<double>(), reference.item<double>(), 1e-9) << eps;
    EXPECT_EQ(ours.num_tokens.item<int64_t>(), 12);
  }
}

TEST(LabelSmoothedLoss, GradientFlowsOnlyThroughRealTokens) {
  auto logits = torch::zeros({1, 2, 4}, torch::requires_grad());
  auto targets = torch::tensor({1, 0}, torch::kInt64).view({1, 2});
  label_smoothed_loss(logits, targets, 0.1, 0).smoothed_sum.backward();
  EXPECT_GT(logits.grad()[0][0].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(logits.grad()[0][1].abs().sum().item<float>(), 0.0f);
}

// float32 on the CPU: the fused kernel when enabled, the LibTorch-ops definition otherwise.
class LabelSmoothedLossFloat32 : public ::testing::TestWithParam<bool> {  // param: fused
 protected:
  ScopedFusedKernels kernels_{GetParam()};
};

TEST_P(LabelSmoothedLossFloat32, MatchesTorchCrossEntropyValuesAndGradients) {
  torch::manual_seed(4);
  auto logits = (3 * torch::randn({4, 6, 300})).requires_grad_(true);
  auto reference_logits = logits.detach().clone().requires_grad_(true);
  auto targets = torch::randint(1, 300, {4, 6}, torch::kInt64);
  targets.index_put_({1, torch::indexing::Slice(2)}, 0);  // padding
  auto ours = label_smoothed_loss(logits, targets, 0.1, /*pad_id=*/0);
  auto reference = torch_cross_entropy_sum(reference_logits, targets, 0.1);
  EXPECT_EQ(ours.smoothed_sum.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(ours.smoothed_sum.item<double>(), reference.item<double>(), 1e-3);
  EXPECT_FALSE(ours.nll_sum.requires_grad());
  EXPECT_EQ(ours.num_tokens.item<int64_t>(), 4 * 6 - 4);
  ours.smoothed_sum.backward();
  reference.backward();
  EXPECT_TRUE(torch::allclose(logits.grad(), reference_logits.grad(), 1e-4, 1e-6));
  EXPECT_EQ(logits.grad()[1].slice(0, 2).abs().sum().item<float>(), 0.0F);  // padding
}

TEST_P(LabelSmoothedLossFloat32, NllSumIsTheUnsmoothedLoss) {
  torch::manual_seed(6);
  auto logits = torch::randn({2, 5, 40});
  auto targets = torch::randint(1, 40, {2, 5}, torch::kInt64);
  targets.index_put_({0, 4}, 0);  // padding
  auto ours = label_smoothed_loss(logits, targets, 0.2, /*pad_id=*/0);
  EXPECT_NEAR(ours.nll_sum.item<double>(),
              torch_cross_entropy_sum(logits, targets, 0.0).item<double>(),
              1e-4);
}

INSTANTIATE_TEST_SUITE_P(FusedAndReference,
                         LabelSmoothedLossFloat32,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "Fused" : "Reference";
                         });

TEST(LabelSmoothedLoss, FusedAndReferencePathsAgreeInFloat32) {
  torch::manual_seed(7);
  auto logits = (2 * torch::randn({3, 7, 500})).requires_grad_(true);
  auto targets = torch::randint(1, 500, {3, 7}, torch::kInt64);
  targets.index_put_({2, torch::indexing::Slice(3)}, 0);  // padding
  auto loss_and_gradient = [&](bool fused) {
    ScopedFusedKernels kernels(fused);
    logits.mutable_grad().reset();
    auto loss = label_smoothed_loss(logits, targets, 0.1, /*pad_id=*/0);
    (loss.smoothed_sum * 0.25).backward();
    return std::make_pair(loss, logits.grad().clone());
  };
  auto [fused, fused_grad] = loss_and_gradient(true);
  auto [reference, reference_grad] = loss_and_gradient(false);
  EXPECT_NEAR(fused.smoothed_sum.item<double>(), reference.smoothed_sum.item<double>(), 1e-3);
  EXPECT_NEAR(fused.nll_sum.item<double>(), reference.nll_sum.item<double>(), 1e-3);
  EXPECT_TRUE(torch::equal(fused.num_tokens, reference.num_tokens));
  EXPECT_TRUE(torch::allclose(fused_grad, reference_grad, 1e-5, 1e-7));
}

}  // namespace
}  // namespace qkv
