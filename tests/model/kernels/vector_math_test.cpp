// Tests of model/kernels/vector_math: the vectorised loops against LibTorch / std:: references, at
// lengths that exercise both the 16-wide blocks and the tails.
#include "model/kernels/vector_math.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace qkv {
namespace {

TEST(VectorMath, ExpShiftedIsAccurateAndExactlyZeroForMinusInfinity) {
  auto x = torch::linspace(-110.0, 80.0, 1001);
  x[7] = -std::numeric_limits<float>::infinity();
  std::vector<float> y(1001);
  const double sum = vecmath::exp_shifted(x.data_ptr<float>(), 2.5F, y.data(), 1001);
  double expected_sum = 0;
  for (int64_t i = 0; i < 1001; ++i) {
    // The argument is rounded to float first, as the kernel computes it.
    const float argument = x[i].item<float>() - 2.5F;
    const double expected = std::exp(static_cast<double>(argument));
    expected_sum += expected;
    EXPECT_NEAR(y[static_cast<size_t>(i)], expected, 3e-7 * expected + 1e-38) << i;
  }
  EXPECT_EQ(y[7], 0.0F);
  EXPECT_NEAR(sum, expected_sum, 1e-6 * expected_sum);
}

TEST(VectorMath, MaxSumAndLogSoftmaxMatchLibTorch) {
  torch::manual_seed(0);
  for (int64_t n : {1, 15, 16, 17, 8000}) {
    auto x = 5 * torch::randn({n});
    const float* p = x.data_ptr<float>();
    EXPECT_EQ(vecmath::max_of(p, n), x.max().item<float>()) << n;
    EXPECT_NEAR(vecmath::sum_of(p, n), x.to(torch::kFloat64).sum().item<double>(), 1e-3) << n;
    auto y = torch::empty_like(x);
    vecmath::log_softmax(p, y.data_ptr<float>(), n);
    EXPECT_TRUE(torch::allclose(y, torch::log_softmax(x, 0), 1e-5, 1e-5)) << n;
  }
}

TEST(VectorMath, TopKMatchesLibTorchTopK) {
  torch::manual_seed(1);
  for (int64_t n : {8, 33, 8000}) {
    auto x = torch::randn({n});
    for (int64_t k : {1, 4, 8}) {
      std::vector<float> values(static_cast<size_t>(k));
      std::vector<int64_t> indices(static_cast<size_t>(k));
      vecmath::top_k(x.data_ptr<float>(), n, k, values.data(), indices.data());
      auto [expected_values, expected_indices] = x.topk(k);
      for (int64_t j = 0; j < k; ++j) {
        EXPECT_EQ(values[static_cast<size_t>(j)], expected_values[j].item<float>()) << n << k;
        EXPECT_EQ(indices[static_cast<size_t>(j)], expected_indices[j].item<int64_t>()) << n << k;
      }
    }
  }
}

TEST(VectorMath, TopKPrefersTheEarlierOfEqualValues) {
  std::vector<float> x = {1, 3, 2, 3, 3};
  std::vector<float> values(2);
  std::vector<int64_t> indices(2);
  vecmath::top_k(x.data(), 5, 2, values.data(), indices.data());
  EXPECT_EQ(indices, (std::vector<int64_t>{1, 3}));
}

TEST(VectorMath, KeepMaskIsRepeatableAndHasTheRequestedRate) {
  const auto mask = vecmath::KeepMask::make(0.3, 12345);
  std::vector<float> ones(100000, 1.0F), a(100000), b(100000);
  vecmath::dropout(ones.data(), a.data(), 100000, mask, /*offset=*/0);
  vecmath::dropout(ones.data() + 500, b.data(), 1000, mask, /*offset=*/500);  // same mask, later
  int64_t kept = 0;
  for (float v : a) kept += v != 0.0F;
  EXPECT_NEAR(static_cast<double>(kept) / 100000.0, 0.7, 0.005);
  for (int64_t i = 0; i < 1000; ++i)
    EXPECT_EQ(a[static_cast<size_t>(500 + i)], b[static_cast<size_t>(i)]);
  EXPECT_FLOAT_EQ(*std::max_element(a.begin(), a.end()), 1.0F / 0.7F);
}

}  // namespace
}  // namespace qkv
