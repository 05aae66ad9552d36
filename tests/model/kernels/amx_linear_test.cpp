// model/kernels/amx_linear: the AMX tiles against the same arithmetic written with LibTorch
// ops (bf16: products of bf16-rounded values summed in float; int8: the integer products of
// the per-row quantized values), at shapes that are whole tiles and shapes that are not.
// Skipped on CPUs (or kernels) without AMX.
#include "model/kernels/amx_linear.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <tuple>
#include <vector>

#include "model/kernels/dispatch.h"
#include "model/linear.h"
#include "model/precision.h"

namespace qkv {
namespace {

// Largest |a - b| relative to the largest |b|.
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

torch::Tensor rounded_to_bf16(const torch::Tensor& t) {
  return t.to(torch::kBFloat16).to(torch::kFloat64);
}

// Symmetric per-row quantization, as the kernel does it: (integer values, scale per row).
std::pair<torch::Tensor, torch::Tensor> quantized_rows(const torch::Tensor& t) {
  const auto scale = t.abs().amax(/*dim=*/1, /*keepdim=*/true).clamp_min(1e-12) / 127.0;
  return {(t / scale).round().clamp(-127, 127).to(torch::kFloat64), scale.to(torch::kFloat64)};
}

// M x K -> N: one tile, tails in every dimension, a single row, and the model's own shapes.
const std::vector<std::tuple<int64_t, int64_t, int64_t>> kShapes = {
    {32, 64, 32}, {3, 5, 17}, {1, 256, 8000}, {70, 100, 40}, {64, 1024, 256}, {33, 256, 768}};

TEST(AmxLinear, Bf16IsTheProductOfBf16RoundedValues) {
  if (!amx_usable(AmxFormat::kBf16)) GTEST_SKIP() << "no AMX-BF16 here";
  torch::manual_seed(3);
  for (const auto& [m, k, n] : kShapes) {
    const auto x = torch::randn({m, k}), w = torch::randn({n, k}), b = torch::randn({n});
    const auto ours = AmxLinear(w, b, AmxFormat::kBf16)(x);
    const auto expected =
        torch::linear(rounded_to_bf16(x), rounded_to_bf16(w), b.to(torch::kFloat64));
    EXPECT_EQ(ours.sizes(), expected.sizes());
    EXPECT_LT(relative_error(ours.to(torch::kFloat64), expected), 1e-5)
        << m << "x" << k << "x" << n;
  }
}

TEST(AmxLinear, Int8IsTheProductOfPerRowQuantizedValues) {
  if (!amx_usable(AmxFormat::kInt8)) GTEST_SKIP() << "no AMX-INT8 here";
  torch::manual_seed(4);
  for (const auto& [m, k, n] : kShapes) {
    const auto x = torch::randn({m, k}), w = torch::randn({n, k}), b = torch::randn({n});
    const auto ours = AmxLinear(w, b, AmxFormat::kInt8)(x);
    const auto [qx, sx] = quantized_rows(x);
    const auto [qw, sw] = quantized_rows(w);
    const auto expected = torch::mm(qx, qw.t()) * sx * sw.t() + b.to(torch::kFloat64);
    // Exact integer sums; only the float scaling rounds. Ties at .5 may round either way.
    EXPECT_LT(relative_error(ours.to(torch::kFloat64), expected), 1e-4)
        << m << "x" << k << "x" << n;
    EXPECT_LT(relative_error(ours, torch::linear(x, w, b)), 0.03) << "close to fp32";
  }
}

TEST(AmxLinear, KeepsLeadingDimensionsAndWorksWithoutBiasAndOnZeroRows) {
  if (!amx_usable(AmxFormat::kInt8) || !amx_usable(AmxFormat::kBf16)) GTEST_SKIP() << "no AMX";
  torch::manual_seed(5);
  auto x = torch::randn({2, 3, 48});
  x[1][2].zero_();  // a row of zeros: scale 1, all products 0
  const auto w = torch::randn({20, 48});
  for (AmxFormat format : {AmxFormat::kBf16, AmxFormat::kInt8}) {
    const auto y = AmxLinear(w, torch::Tensor(), format)(x);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 20}));
    EXPECT_TRUE(torch::all(y[1][2] == 0).item<bool>());
    EXPECT_LT(relative_error(y, torch::linear(x, w)), 0.03);
  }
}

// PackedLinear takes the tiles when it can; switched off (QKV_NO_FUSED) it takes LibTorch's
// path, and the two agree to the precision's rounding.
TEST(AmxLinear, PackedLinearUsesTheTilesAndAgreesWithLibTorchsPath) {
  if (!amx_usable(AmxFormat::kInt8) || !amx_usable(AmxFormat::kBf16)) GTEST_SKIP() << "no AMX";
  torch::manual_seed(6);
  const auto x = torch::randn({9, 64}), w = torch::randn({40, 64}), b = torch::randn({40});
  for (Precision precision : {Precision::kBf16, Precision::kInt8}) {
    const PackedLinear tiles(w, b, precision);
    ScopedFusedKernels off(false);
    const PackedLinear libtorch(w, b, precision);
    EXPECT_TRUE(tiles.uses_amx());
    EXPECT_FALSE(libtorch.uses_amx());
    EXPECT_LT(relative_error(tiles(x), libtorch(x)), 0.03) << precision_name(precision);
  }
}

TEST(AmxLinear, NotUsableWhenBf16IsSwitchedOff) {
  ScopedCpuBf16 off(false);
  EXPECT_FALSE(amx_usable(AmxFormat::kBf16));
}

}  // namespace
}  // namespace qkv
