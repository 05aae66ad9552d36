// Bucket plans (sizes, dtypes, order), and bucketed all-reduce and broadcast between two real
// ranks, checked against torch::add / the values of rank 0 (rank_scenarios.cpp).
#include "dist/gradient_buckets.h"

#include <gtest/gtest.h>

#include "tests/dist/rank_launcher.h"

namespace qkv {
namespace {

using Buckets = std::vector<std::vector<std::size_t>>;
using namespace std::chrono_literals;

TEST(GradientBuckets, ConsecutiveTensorsShareABucketUpToTheCap) {
  // 40, 40, 40 and 80 bytes with a cap of 100: [0, 1], [2], [3].
  const std::vector<torch::Tensor> tensors = {
      torch::zeros({10}), torch::zeros({10}), torch::zeros({10}), torch::zeros({20})};
  EXPECT_EQ(plan_buckets(tensors, 100), (Buckets{{0, 1}, {2}, {3}}));
  EXPECT_EQ(plan_buckets(tensors, 1000), (Buckets{{0, 1, 2, 3}}));
}

TEST(GradientBuckets, ATensorLargerThanTheCapIsABucketOfItsOwn) {
  const std::vector<torch::Tensor> tensors = {
      torch::zeros({2}), torch::zeros({100}), torch::zeros({2})};
  EXPECT_EQ(plan_buckets(tensors, 16), (Buckets{{0}, {1}, {2}}));
}

TEST(GradientBuckets, ADtypeChangeStartsANewBucket) {
  const std::vector<torch::Tensor> tensors = {torch::zeros({2}),
                                              torch::zeros({2}, torch::kFloat64),
                                              torch::zeros({2}, torch::kFloat64),
                                              torch::zeros({2})};
  EXPECT_EQ(plan_buckets(tensors, 1000), (Buckets{{0}, {1, 2}, {3}}));
}

TEST(GradientBuckets, NoTensorsNoBuckets) { EXPECT_TRUE(plan_buckets({}, 100).empty()); }

TEST(GradientBuckets, AnUndefinedTensorIsRefused) {
  EXPECT_THROW(plan_buckets({torch::zeros({2}), torch::Tensor()}, 100), c10::Error);
  EXPECT_THROW(plan_buckets({torch::zeros({2})}, 0), c10::Error);
}

TEST(GradientBuckets, TwoRanksSumTheirTensorsInBuckets) {
  const auto ranks = test::run_ranks("all_reduce_in_buckets", 2, 10s);
  for (const auto& rank : ranks) EXPECT_EQ(rank.exit_code, 0) << rank.output;
}

TEST(GradientBuckets, BroadcastGivesEveryRankRankZerosParameters) {
  const auto ranks = test::run_ranks("broadcast_parameters", 2, 10s);
  for (const auto& rank : ranks) EXPECT_EQ(rank.exit_code, 0) << rank.output;
}

}  // namespace
}  // namespace qkv
