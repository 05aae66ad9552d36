// Tests of model/kernels/bf16_rows: rounding against LibTorch's own float32 -> bfloat16
// conversion, and the dot products / weighted sums against LibTorch ops on the same bf16
// values widened to float32, at lengths and row counts with tails.
#include "model/kernels/bf16_rows.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <limits>
#include <vector>

namespace qkv {
namespace {

// x rounded to bf16 by LibTorch, as raw uint16 rows.
std::vector<uint16_t> torch_bf16_bits(const torch::Tensor& x) {
  const auto rounded = x.to(torch::kBFloat16).contiguous();
  std::vector<uint16_t> bits(static_cast<size_t>(x.numel()));
  std::memcpy(bits.data(), rounded.data_ptr(), bits.size() * sizeof(uint16_t));
  return bits;
}

// uint16 bf16 rows [rows, ld] as a float32 tensor.
torch::Tensor widened(const std::vector<uint16_t>& bits, int64_t rows, int64_t ld) {
  auto out = torch::empty({rows, ld}, torch::kBFloat16);
  std::memcpy(out.data_ptr(), bits.data(), bits.size() * sizeof(uint16_t));
  return out.to(torch::kFloat32);
}

TEST(Bf16Rows, RoundingMatchesLibTorch) {
  torch::manual_seed(0);
  auto x = torch::cat({torch::randn({1000}) * 100, torch::randn({37}) * 1e-30});
  x[3] = std::numeric_limits<float>::infinity();
  x[4] = -std::numeric_limits<float>::infinity();
  x[5] = 0.0F;
  x[6] = -0.0F;
  std::vector<uint16_t> ours(static_cast<size_t>(x.numel()));
  bf16::from_float(x.data_ptr<float>(), ours.data(), x.numel());
  EXPECT_EQ(ours, torch_bf16_bits(x));
  // Ties go to even: 1 + 2^-8 lies halfway between two bf16 values.
  const float tie = 1.0F + 1.0F / 256.0F;
  uint16_t rounded = 0;
  bf16::from_float(&tie, &rounded, 1);
  EXPECT_EQ(rounded, 0x3F80);  // 1.0, the even neighbour
  const float nan = std::numeric_limits<float>::quiet_NaN();
  bf16::from_float(&nan, &rounded, 1);
  EXPECT_EQ(rounded & 0x7F80, 0x7F80);
  EXPECT_NE(rounded & 0x7F, 0);  // still a NaN
}

TEST(Bf16Rows, DotRowsMatchLibTorch) {
  torch::manual_seed(1);
  for (int64_t n : {64, 7, 33}) {
    for (int64_t count : {1, 15, 16, 17, 40}) {
      const int64_t ld = n + 5;  // rows further apart than their length
      const auto rows = torch_bf16_bits(torch::randn({count, ld}));
      const auto x = torch::randn({n});
      std::vector<float> out(static_cast<size_t>(count));
      bf16::dot_rows(x.data_ptr<float>(), rows.data(), ld, count, n, out.data());
      const auto expected = torch::mv(widened(rows, count, ld).narrow(1, 0, n), x);
      const auto got = torch::from_blob(out.data(), {count});
      EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-5)) << n << " " << count;
    }
  }
}

TEST(Bf16Rows, AddWeightedRowsMatchesLibTorchAndSkipsZeroWeights) {
  torch::manual_seed(2);
  for (int64_t n : {64, 7, 100}) {
    for (int64_t count : {1, 17}) {
      const int64_t ld = n + 3;
      auto rows = torch_bf16_bits(torch::randn({count, ld}));
      auto weights = torch::softmax(torch::randn({count}), 0);
      weights[0] = 0.0F;
      // A zero weight skips its row: even a NaN there leaves the sum alone.
      rows[0] = 0x7FC0;
      auto y = torch::randn({n});
      const auto expected =
          y + torch::mv(widened(rows, count, ld).narrow(1, 0, n).narrow(0, 1, count - 1).t(),
                        weights.narrow(0, 1, count - 1));
      bf16::add_weighted_rows(
          weights.data_ptr<float>(), rows.data(), ld, count, n, y.data_ptr<float>());
      EXPECT_TRUE(torch::allclose(y, expected, 1e-5, 1e-5)) << n << " " << count;
    }
  }
}

}  // namespace
}  // namespace qkv
