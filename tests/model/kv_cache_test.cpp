// Tests of model/kv_cache: appends equal concatenation, growth keeps old entries, reorder.
#include "model/kv_cache.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

namespace qkv {
namespace {

TEST(KeyValueCache, AppendsEqualConcatenationAcrossGrowth) {
  torch::NoGradGuard no_grad;  // in-place buffer path
  KeyValueCache cache;
  EXPECT_FALSE(cache.view().k.defined());
  std::vector<torch::Tensor> keys, values;
  for (int64_t step = 0; step < 40; ++step) {  // crosses the initial capacity twice
    keys.push_back(torch::randn({3, 2, 1, 4}));
    values.push_back(torch::randn({3, 2, 1, 4}));
    auto all = cache.append(keys.back(), values.back());
    ASSERT_EQ(all.k.sizes(), (std::vector<int64_t>{3, 2, step + 1, 4}));
  }
  EXPECT_EQ(cache.length(), 40);
  EXPECT_TRUE(torch::equal(cache.view().k, torch::cat(keys, 2)));
  EXPECT_TRUE(torch::equal(cache.view().v, torch::cat(values, 2)));
}

TEST(KeyValueCache, StoresStridedAppendsInItsDtype) {
  torch::NoGradGuard no_grad;
  for (auto storage : {torch::kFloat32, torch::kBFloat16}) {
    KeyValueCache cache(storage);
    std::vector<torch::Tensor> keys, values;
    for (int64_t step = 0; step < 20; ++step) {  // crosses the initial capacity
      // [B, 1, 2 * H * Dh] -> k, v [B, H, 1, Dh] views, as the fused projection gives them.
      auto both = torch::randn({3, 1, 2 * 2 * 8}).chunk(2, /*dim=*/-1);
      keys.push_back(both[0].view({3, 1, 2, 8}).transpose(1, 2));
      values.push_back(both[1].view({3, 1, 2, 8}).transpose(1, 2));
      cache.append(keys.back(), values.back());
    }
    const auto all = cache.view();
    ASSERT_EQ(all.k.scalar_type(), storage);
    // Rounded as LibTorch rounds float32 to bf16 (and unchanged in float32).
    EXPECT_TRUE(torch::equal(all.k, torch::cat(keys, 2).to(storage)));
    EXPECT_TRUE(torch::equal(all.v, torch::cat(values, 2).to(storage)));
    cache.reorder(torch::tensor({2, 0}, torch::kLong));
    EXPECT_TRUE(torch::equal(
        cache.view().k,
        torch::cat(keys, 2).to(storage).index_select(0, torch::tensor({2, 0}, torch::kLong))));
  }
}

TEST(KeyValueCache, AppendsSeveralPositionsAtOnce) {
  torch::NoGradGuard no_grad;
  KeyValueCache cache;
  auto first = torch::randn({1, 1, 3, 2});
  auto second = torch::randn({1, 1, 20, 2});
  cache.append(first, first);
  auto all = cache.append(second, second);
  EXPECT_TRUE(torch::equal(all.k, torch::cat({first, second}, 2)));
}

TEST(KeyValueCache, GradModeConcatenatesAndKeepsGradients) {
  KeyValueCache cache;
  auto k1 = torch::randn({1, 1, 1, 2}, torch::requires_grad());
  auto k2 = torch::randn({1, 1, 1, 2}, torch::requires_grad());
  cache.append(k1, k1);
  auto all = cache.append(k2, k2);
  (all.k.sum() + all.v.sum()).backward();
  ASSERT_TRUE(k1.grad().defined());
  EXPECT_TRUE(torch::equal(k1.grad(), torch::full({1, 1, 1, 2}, 2.0)));  // used as k and v
}

TEST(KeyValueCache, ReorderSelectsRowsAndStillAppends) {
  torch::NoGradGuard no_grad;
  KeyValueCache cache;
  auto k = torch::arange(3.0).view({3, 1, 1, 1});  // row b holds value b
  cache.append(k, k + 10);
  cache.reorder(torch::tensor({2, 2, 0, 1}, torch::kLong));
  auto next = torch::full({4, 1, 1, 1}, 7.0);
  auto all = cache.append(next, next);
  EXPECT_EQ(all.k.sizes(), (std::vector<int64_t>{4, 1, 2, 1}));
  EXPECT_TRUE(torch::equal(all.k.select(2, 0).flatten(), torch::tensor({2.0, 2.0, 0.0, 1.0})));
  EXPECT_TRUE(torch::equal(all.v.select(2, 0).flatten(), torch::tensor({12.0, 12.0, 10.0, 11.0})));
  EXPECT_TRUE(torch::equal(all.k.select(2, 1).flatten(), torch::full({4}, 7.0)));
}

TEST(KeyValueCache, RejectsMismatchedShapes) {
  torch::NoGradGuard no_grad;
  KeyValueCache cache;
  cache.append(torch::randn({2, 2, 1, 4}), torch::randn({2, 2, 1, 4}));
  EXPECT_THROW(cache.append(torch::randn({3, 2, 1, 4}), torch::randn({3, 2, 1, 4})), c10::Error);
  EXPECT_THROW(cache.append(torch::randn({2, 2, 1, 4}), torch::randn({2, 2, 2, 4})), c10::Error);
}

}  // namespace
}  // namespace qkv
