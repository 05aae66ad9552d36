// Tests of model/kernels/attention_kernel: the fused per-head kernel against the reference
// composition attention_weights() + matmul, forward and backward, on the strided views
// MultiHeadAttention gives it; and its dropout against finite differences of the same (seeded)
// function.
#include "model/kernels/attention_kernel.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/attention.h"
#include "model/masks.h"

namespace qkv {
namespace {

constexpr int64_t kBatch = 3, kHeads = 2, kDh = 8;

// [B, T, 3 * H * Dh] -> three [B, H, T, Dh] views, as the fused QKV projection produces them.
std::vector<torch::Tensor> strided_heads(const torch::Tensor& packed) {
  std::vector<torch::Tensor> heads;
  for (auto& part : packed.chunk(3, /*dim=*/-1)) {
    heads.push_back(part.view({packed.size(0), packed.size(1), kHeads, kDh}).transpose(1, 2));
  }
  return heads;
}

torch::Tensor reference(const torch::Tensor& q,
                        const torch::Tensor& k,
                        const torch::Tensor& v,
                        const torch::Tensor& keep) {
  auto out = torch::matmul(attention_weights(q, k, keep), v);                // [B, H, Tq, Dh]
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), kHeads * kDh});  // [B, Tq, H*Dh]
}

struct Case {
  int64_t tq, tk;
  torch::Tensor keep;  // undefined: no mask
};

std::vector<Case> cases() {
  auto tokens = torch::tensor({{5, 6, 7, 8, 9}, {5, 6, 7, 0, 0}, {5, 0, 0, 0, 0}}, torch::kLong);
  return {{5, 5, make_padding_mask(tokens, 0)},  // encoder self-attention with padding
          {5, 5, make_target_mask(tokens, 0)},   // decoder self-attention: causal & padding
          {3, 5, make_padding_mask(tokens, 0)},  // cross-attention, Tq != Tk
          {1, 5, torch::Tensor()},               // one decoding step, no mask
          {1, 5, make_padding_mask(tokens, 0)},  // one step of cross-attention to padded sources
          {1, 37, torch::Tensor()}};             // one step, more keys than a vector holds
}

TEST(AttentionKernel, ForwardAndWeightsMatchReference) {
  torch::manual_seed(0);
  for (const auto& c : cases()) {
    auto q = torch::randn({kBatch, kHeads, c.tq, kDh});
    auto kv = strided_heads(torch::randn({kBatch, c.tk, 3 * kHeads * kDh}));
    torch::Tensor weights;
    auto ours = attention_kernel(q, kv[1], kv[2], c.keep, 0.0, false, &weights);
    auto expected = reference(q, kv[1], kv[2], c.keep);
    ASSERT_EQ(ours.sizes(), expected.sizes());
    EXPECT_TRUE(torch::allclose(ours, expected, 1e-5, 1e-6)) << c.tq << "x" << c.tk;
    EXPECT_TRUE(torch::allclose(weights, attention_weights(q, kv[1], c.keep), 1e-5, 1e-7));
  }
}

TEST(AttentionKernel, Bf16KeysAndValuesMatchReferenceOnTheRoundedValues) {
  torch::manual_seed(5);
  for (const auto& c : cases()) {
    torch::NoGradGuard no_grad;
    auto q = torch::randn({kBatch, kHeads, c.tq, kDh});
    // Strided bf16 views, as a decoding step's projected memory would be before .to(bf16).
    auto kv = strided_heads(torch::randn({kBatch, c.tk, 3 * kHeads * kDh}).to(torch::kBFloat16));
    torch::Tensor weights;
    auto ours = attention_kernel(q, kv[1], kv[2], c.keep, 0.0, false, &weights);
    const auto k = kv[1].to(torch::kFloat32), v = kv[2].to(torch::kFloat32);
    EXPECT_TRUE(torch::allclose(ours, reference(q, k, v, c.keep), 1e-5, 1e-6))
        << c.tq << "x" << c.tk;
    EXPECT_TRUE(torch::allclose(weights, attention_weights(q, k, c.keep), 1e-5, 1e-7));
    // Without weights asked for, the same output.
    EXPECT_TRUE(torch::equal(attention_kernel(q, kv[1], kv[2], c.keep, 0.0, false), ours));
  }
  // bf16 keys and values are for inference: dropout or a gradient to compute is refused.
  auto k16 = torch::randn({1, kHeads, 3, kDh}).to(torch::kBFloat16);
  auto q = torch::randn({1, kHeads, 1, kDh});
  EXPECT_THROW(attention_kernel(q, k16, k16, {}, 0.1, true), c10::Error);
  EXPECT_THROW(attention_kernel(q.requires_grad_(), k16, k16, {}, 0.0, false), c10::Error);
}

TEST(AttentionKernel, MaskedWeightsAreExactlyZeroAndFullyMaskedRowIsNaN) {
  auto q = torch::randn({1, kHeads, 2, kDh}), k = torch::randn({1, kHeads, 3, kDh});
  auto keep = torch::tensor({true, false, true, false, false, false}).view({1, 1, 2, 3});
  torch::Tensor weights;
  attention_kernel(q, k, k, keep, 0.0, false, &weights);
  EXPECT_EQ(weights[0][0][0][1].item<float>(), 0.0F);
  EXPECT_TRUE(std::isnan(weights[0][0][1][0].item<float>()));
}

TEST(AttentionKernel, GradientsMatchReference) {
  torch::manual_seed(1);
  for (const auto& c : cases()) {
    auto packed = torch::randn({kBatch, c.tk, 3 * kHeads * kDh}, torch::requires_grad());
    auto query = torch::randn({kBatch, kHeads, c.tq, kDh}, torch::requires_grad());
    auto upstream = torch::randn({kBatch, c.tq, kHeads * kDh});
    auto kv = strided_heads(packed);
    (attention_kernel(query, kv[1], kv[2], c.keep, 0.0, true) * upstream).sum().backward();
    auto ours_packed = packed.grad().clone(), ours_query = query.grad().clone();
    packed.mutable_grad().reset();
    query.mutable_grad().reset();
    kv = strided_heads(packed);
    (reference(query, kv[1], kv[2], c.keep) * upstream).sum().backward();
    EXPECT_TRUE(torch::allclose(ours_packed, packed.grad(), 1e-4, 1e-5)) << c.tq << "x" << c.tk;
    EXPECT_TRUE(torch::allclose(ours_query, query.grad(), 1e-4, 1e-5)) << c.tq << "x" << c.tk;
  }
}

TEST(AttentionKernel, DropoutIsRepeatableUnderASeedAndOffOutsideTraining) {
  auto q = torch::randn({kBatch, kHeads, 4, kDh}), k = torch::randn({kBatch, kHeads, 4, kDh});
  torch::manual_seed(7);
  auto first = attention_kernel(q, k, k, {}, 0.5, true);
  torch::manual_seed(7);
  auto again = attention_kernel(q, k, k, {}, 0.5, true);
  EXPECT_TRUE(torch::equal(first, again));
  EXPECT_FALSE(torch::allclose(first, attention_kernel(q, k, k, {}, 0.0, true)));
  EXPECT_TRUE(torch::equal(attention_kernel(q, k, k, {}, 0.5, false),
                           attention_kernel(q, k, k, {}, 0.0, true)));
}

TEST(AttentionKernel, DropoutGradientMatchesFiniteDifferences) {
  // With the generator reseeded before every call the dropout mask is fixed, so the kernel is
  // a smooth function of q whose derivative autograd must reproduce.
  torch::manual_seed(3);
  auto q = torch::randn({1, kHeads, 3, kDh}, torch::kFloat64).to(torch::kFloat32);
  auto k = torch::randn({1, kHeads, 4, kDh});
  auto upstream = torch::randn({1, 3, kHeads * kDh});
  auto f = [&](const torch::Tensor& query) {
    torch::manual_seed(11);
    return (attention_kernel(query, k, k, {}, 0.3, true) * upstream).sum();
  };
  auto leaf = q.clone().requires_grad_(true);
  f(leaf).backward();
  const double h = 1e-2;
  auto flat = q.flatten();
  for (int64_t i = 0; i < flat.numel(); i += 5) {
    auto plus = flat.clone(), minus = flat.clone();
    plus[i] += h;
    minus[i] -= h;
    const double numeric =
        (f(plus.view_as(q)).item<double>() - f(minus.view_as(q)).item<double>()) / (2 * h);
    EXPECT_NEAR(leaf.grad().flatten()[i].item<double>(), numeric, 2e-2) << i;
  }
}

}  // namespace
}  // namespace qkv
