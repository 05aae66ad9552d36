#include "train/loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

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

}  // namespace
}  // namespace qkv
