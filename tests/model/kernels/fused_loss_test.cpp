// Tests of model/kernels/fused_loss: the one-pass label-smoothed loss against the same
// definition written with LibTorch ops (in float64), values and gradients; zero gradients at
// padding whatever memory the kernel was given; and its preconditions.
#include "model/kernels/fused_loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

namespace qkv {
namespace {

// The definition, per real token (1 - eps) * nll + eps * mean_c(-log p(c)), in LibTorch ops:
// {smoothed sum, nll sum} over logits [N, V] and targets [N].
std::pair<torch::Tensor, torch::Tensor> reference_sums(const torch::Tensor& logits,
                                                       const torch::Tensor& targets,
                                                       double epsilon,
                                                       int64_t pad_id) {
  const auto log_probs = torch::log_softmax(logits, /*dim=*/-1);           // [N, V]
  const auto nll = -log_probs.gather(1, targets.unsqueeze(1)).squeeze(1);  // [N]
  const auto per_token = nll * (1.0 - epsilon) - log_probs.mean(-1) * epsilon;
  const auto real = targets.ne(pad_id);
  return {per_token.masked_select(real).sum(), nll.masked_select(real).sum()};
}

TEST(FusedLoss, MatchesTheDefinitionInFloat64ValuesAndGradients) {
  torch::manual_seed(4);
  auto logits64 = (3 * torch::randn({24, 300}, torch::kFloat64)).requires_grad_(true);
  auto logits32 = logits64.detach().to(torch::kFloat32).requires_grad_(true);
  auto targets = torch::randint(1, 300, {24}, torch::kInt64);
  targets.slice(0, 8, 12).fill_(0);  // padding
  for (double eps : {0.0, 0.1}) {
    auto [smoothed, nll] = fused_label_smoothed_sums(logits32, targets, eps, /*pad_id=*/0);
    auto [ref_smoothed, ref_nll] = reference_sums(logits64, targets, eps, /*pad_id=*/0);
    EXPECT_EQ(smoothed.scalar_type(), torch::kFloat32);
    EXPECT_NEAR(smoothed.item<double>(), ref_smoothed.item<double>(), 1e-4) << eps;
    EXPECT_NEAR(nll.item<double>(), ref_nll.item<double>(), 1e-4) << eps;
    EXPECT_FALSE(nll.requires_grad());
    (smoothed * 0.5).backward();
    (ref_smoothed * 0.5).backward();
    EXPECT_TRUE(torch::allclose(logits32.grad().to(torch::kFloat64), logits64.grad(), 1e-4, 1e-7))
        << eps;
    EXPECT_EQ(logits32.grad().slice(0, 8, 12).abs().sum().item<float>(), 0.0F);  // padding
    logits32.mutable_grad().reset();
    logits64.mutable_grad().reset();
  }
}

// Regression: the kernel left the padded rows of its [N, V] buffer unwritten and scaled them
// by 0 in backward; memory that last held -inf (masked attention scores) gave NaN gradients,
// and training turned to NaN after a few hundred steps. Freeing a buffer of inf of the same
// size right before the loss makes the allocator likely to hand that memory back.
TEST(FusedLoss, ZeroGradientAtPaddingWhateverTheMemoryHeld) {
  torch::manual_seed(5);
  auto logits = torch::randn({8, 1000}).requires_grad_(true);  // 32 kB: heap, not mmap
  auto targets = torch::randint(1, 1000, {8}, torch::kInt64);
  targets.slice(0, 5).fill_(0);  // padding
  for (int attempt = 0; attempt < 3; ++attempt) {
    torch::full({8, 1000}, -std::numeric_limits<float>::infinity()).reset();
    fused_label_smoothed_sums(logits, targets, 0.1, /*pad_id=*/0).first.backward();
    EXPECT_TRUE(logits.grad().isfinite().all().item<bool>()) << "attempt " << attempt;
    EXPECT_EQ(logits.grad().slice(0, 5).abs().sum().item<float>(), 0.0F);
    logits.mutable_grad().reset();
  }
}

TEST(FusedLoss, RejectsOutOfRangeTargetsUnsupportedTensorsAndASecondBackward) {
  auto logits = torch::zeros({2, 5}, torch::requires_grad());
  EXPECT_THROW(fused_label_smoothed_sums(logits, torch::tensor({1, 9}), 0.1, 0), c10::Error);
  EXPECT_THROW(fused_label_smoothed_sums(logits, torch::tensor({1, -2}), 0.1, 0), c10::Error);
  EXPECT_THROW(fused_label_smoothed_sums(logits.to(torch::kFloat64), torch::tensor({1, 2}), 0.1, 0),
               c10::Error);
  EXPECT_FALSE(fused_loss_supports(logits, torch::tensor({1, 2}, torch::kInt32)));
  auto loss = fused_label_smoothed_sums(logits, torch::tensor({1, 2}), 0.1, 0).first;
  loss.backward({}, /*retain_graph=*/true);
  EXPECT_THROW(loss.backward(), c10::Error);
}

}  // namespace
}  // namespace qkv
