#include "train/loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

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

TEST(LabelSmoothedLoss, MatchesTorchCrossEntropyAndIgnoresPadding) {
  torch::manual_seed(0);
  auto logits = torch::randn({3, 5, 11}, torch::kFloat64);
  auto targets = torch::randint(1, 11, {3, 5}, torch::kInt64);
  targets.index_put_({0, torch::indexing::Slice(3)}, 0);  // padding
  targets.index_put_({2, 4}, 0);
  for (double eps : {0.0, 0.1, 0.25}) {
    auto ours = label_smoothed_loss(logits, targets, eps, /*pad_id=*/0);
    auto reference =
        torch::nn::functional::cross_entropy(logits.view({-1, 11}),
                                             targets.view({-1}),
                                             torch::nn::functional::CrossEntropyFuncOptions()
                                                 .ignore_index(0)
                                                 .label_smoothing(eps)
                                                 .reduction(torch::kSum));
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

// float32 on CPU takes the fused path of loss.cpp; float64 the composite of LibTorch ops.
TEST(LabelSmoothedLoss, FusedFloat32PathMatchesFloat64ValuesAndGradients) {
  torch::manual_seed(4);
  auto logits64 = (3 * torch::randn({4, 6, 300}, torch::kFloat64)).requires_grad_(true);
  auto logits32 = logits64.detach().to(torch::kFloat32).requires_grad_(true);
  auto targets = torch::randint(1, 300, {4, 6}, torch::kInt64);
  targets.index_put_({1, torch::indexing::Slice(2)}, 0);  // padding
  const double eps = 0.1;
  auto ours = label_smoothed_loss(logits32, targets, eps, /*pad_id=*/0);
  auto reference = label_smoothed_loss(logits64, targets, eps, /*pad_id=*/0);
  EXPECT_EQ(ours.smoothed_sum.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(ours.smoothed_sum.item<double>(), reference.smoothed_sum.item<double>(), 1e-4);
  EXPECT_NEAR(ours.nll_sum.item<double>(), reference.nll_sum.item<double>(), 1e-4);
  EXPECT_FALSE(ours.nll_sum.requires_grad());
  EXPECT_EQ(ours.num_tokens.item<int64_t>(), reference.num_tokens.item<int64_t>());
  (ours.smoothed_sum * 0.5).backward();
  (reference.smoothed_sum * 0.5).backward();
  EXPECT_TRUE(torch::allclose(logits32.grad().to(torch::kFloat64), logits64.grad(), 1e-4, 1e-7));
  EXPECT_EQ(logits32.grad()[1][3].abs().sum().item<float>(), 0.0F);  // padded position
}

// Regression: the fused path left the padded rows of its [N, V] buffer unwritten and scaled
// them by 0 in backward; memory that last held -inf (masked attention scores) gave NaN
// gradients, and training turned to NaN after a few hundred steps. Freeing a buffer of inf of
// the same size right before the loss makes the allocator likely to hand that memory back.
TEST(LabelSmoothedLoss, FusedPathGivesZeroGradientAtPaddingWhateverTheMemoryHeld) {
  torch::manual_seed(5);
  auto logits = torch::randn({2, 4, 1000}).requires_grad_(true);  // 32 kB: heap, not mmap
  auto targets = torch::randint(1, 1000, {2, 4}, torch::kInt64);
  targets.index_put_({1, torch::indexing::Slice(1)}, 0);  // padding
  for (int attempt = 0; attempt < 3; ++attempt) {
    torch::full({2, 4, 1000}, -std::numeric_limits<float>::infinity()).reset();
    auto loss = label_smoothed_loss(logits, targets, 0.1, /*pad_id=*/0);
    loss.smoothed_sum.backward();
    EXPECT_TRUE(logits.grad().isfinite().all().item<bool>()) << "attempt " << attempt;
    EXPECT_EQ(logits.grad()[1].slice(0, 1).abs().sum().item<float>(), 0.0F);
    logits.mutable_grad().reset();
  }
}

TEST(LabelSmoothedLoss, FusedPathRejectsOutOfRangeTargetsAndASecondBackward) {
  auto logits = torch::zeros({1, 2, 5}, torch::requires_grad());
  EXPECT_THROW(label_smoothed_loss(logits, torch::tensor({{1, 9}}), 0.1, 0), c10::Error);
  auto loss = label_smoothed_loss(logits, torch::tensor({{1, 2}}), 0.1, 0).smoothed_sum;
  loss.backward({}, /*retain_graph=*/true);
  EXPECT_THROW(loss.backward(), c10::Error);
}

}  // namespace
}  // namespace qkv
