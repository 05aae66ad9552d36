// Linear layers in fp32, bf16 and int8 (model/linear.h) against LibTorch's float32 linear, and
// the Transformer's packing for decoding: fp32 packing changes nothing; bf16 and int8 stay
// within stated tolerances of fp32; training unpacks.
#include "model/linear.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/kernels/dispatch.h"
#include "model/masks.h"
#include "model/search.h"
#include "model/transformer.h"
#include "tests/model/model_test_util.h"

namespace qkv {
namespace {

using test::kBos;
using test::kEos;
using test::kPad;

// Largest |a - b| relative to the largest |b|.
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

TEST(Linear, InitialisesLikeTorchLinearDrawForDraw) {
  torch::manual_seed(7);
  Linear ours(16, 24);
  const auto after_ours = torch::rand({4});
  torch::manual_seed(7);
  torch::nn::Linear theirs(16, 24);
  const auto after_theirs = torch::rand({4});
  EXPECT_TRUE(torch::equal(ours->weight, theirs->weight));
  EXPECT_TRUE(torch::equal(ours->bias, theirs->bias));
  EXPECT_TRUE(torch::equal(after_ours, after_theirs));  // same number of draws
  EXPECT_EQ(ours->named_parameters().keys(), theirs->named_parameters().keys());
}

TEST(Linear, Fp32IsTorchLinearExactly) {
  torch::manual_seed(1);
  Linear layer(16, 24);
  const auto x = torch::randn({3, 5, 16});
  const auto expected = torch::linear(x, layer->weight, layer->bias);
  EXPECT_TRUE(torch::equal(layer(x), expected));
  layer->pack(Precision::kFp32);
  EXPECT_TRUE(torch::equal(layer(x), expected));
}

// bf16 keeps 8 significant bits: inputs and weights each round by up to 2^-9 relative, so a
// 64-term dot product of random values lands within about 1% of the largest output.
TEST(Linear, Bf16AndInt8StayCloseToFp32) {
  torch::manual_seed(2);
  const auto weight = torch::randn({48, 64}), bias = torch::randn({48});
  const auto x = torch::randn({2, 7, 64});
  const auto expected = torch::linear(x, weight, bias);
  const auto bf16 = PackedLinear(weight, bias, Precision::kBf16)(x);
  const auto int8 = PackedLinear(weight, bias, Precision::kInt8)(x);
  EXPECT_EQ(bf16.scalar_type(), torch::kFloat32);
  EXPECT_EQ(int8.scalar_type(), torch::kFloat32);
  EXPECT_EQ(int8.sizes(), expected.sizes());
  EXPECT_LT(relative_error(bf16, expected), 0.01);
  // int8: 127 levels per weight row and 255 for the input: within about 2% of the largest.
  EXPECT_LT(relative_error(int8, expected), 0.02);
  EXPECT_GT(relative_error(int8, expected), 0.0);  // really quantized
}

TEST(Linear, Bf16TrainingScopeCastsTheGemmAndGradientsReachFp32Weights) {
  torch::manual_seed(3);
  Linear layer(32, 16);
  const auto x = torch::randn({8, 32});
  const auto fp32 = layer(x);
  torch::Tensor bf16;
  {
    ScopedGemmPrecision scope(Precision::kBf16, torch::kCPU);
    EXPECT_EQ(gemm_precision(), Precision::kBf16);
    bf16 = layer(x);
  }
  EXPECT_EQ(gemm_precision(), Precision::kFp32);
  EXPECT_FALSE(torch::equal(bf16, fp32));
  EXPECT_LT(relative_error(bf16, fp32), 0.01);
  bf16.sum().backward();
  ASSERT_TRUE(layer->weight.grad().defined());
  EXPECT_EQ(layer->weight.grad().scalar_type(), torch::kFloat32);
  // d(sum)/dW = sum of x rows, for every output row.
  const auto expected_grad = x.sum(0).expand({16, 32});
  EXPECT_LT(relative_error(layer->weight.grad(), expected_grad), 0.01);
}

class PackedTransformer : public ::testing::Test {
 protected:
  static constexpr int64_t kVocab = 40;
  void SetUp() override {
    torch::manual_seed(4);
    model_ = Transformer(test::small_config(), kVocab, kPad);
    model_->eval();
    src_ = test::random_tokens({6, 4, 5}, kVocab);
    tgt_ = test::random_tokens({5, 5, 3}, kVocab);
  }
  torch::Tensor logits() {
    torch::NoGradGuard no_grad;
    return model_->forward(src_, tgt_);
  }
  SearchResult greedy() { return search(*model_, src_, test::search_options(/*beam=*/1)); }
  Transformer model_{nullptr};
  torch::Tensor src_, tgt_;
};

TEST_F(PackedTransformer, Fp32PackingGivesTheSameNumbers) {
  const auto expected = logits();
  const auto expected_tokens = greedy();
  model_->pack_for_decoding(Precision::kFp32);
  EXPECT_TRUE(torch::equal(logits(), expected));
  const auto tokens = greedy();
  ASSERT_EQ(tokens.size(), expected_tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(tokens[i].front().tokens, expected_tokens[i].front().tokens);
  }
}

TEST_F(PackedTransformer, Bf16AndInt8LogitsStayCloseAndTrainingUnpacks) {
  const auto expected = logits();
  for (Precision precision : {Precision::kBf16, Precision::kInt8}) {
    model_->pack_for_decoding(precision);
    ASSERT_EQ(model_->packed_precision(), precision);
    const auto packed = logits();
    EXPECT_FALSE(torch::equal(packed, expected)) << precision_name(precision);
    // Six layers of rounding: within 5% of the largest logit.
    EXPECT_LT(relative_error(packed, expected), 0.05) << precision_name(precision);
    EXPECT_FALSE(greedy().empty());
    model_->train();  // the weights will change: packs are dropped
    EXPECT_FALSE(model_->packed_precision().has_value());
    model_->eval();
    EXPECT_TRUE(torch::equal(logits(), expected)) << precision_name(precision);
  }
}

TEST_F(PackedTransformer, LowPrecisionDecodingKeepsKeysAndValuesInBf16) {
  torch::NoGradGuard no_grad;
  const auto src_keep = make_padding_mask(src_, kPad);
  const auto first = torch::full({src_.size(0)}, kBos, torch::kLong);
  // One decoding step's logits, and the state it leaves.
  const auto step = [&](DecoderState& state) {
    state = model_->start_decoding(model_->encode(src_, src_keep), src_keep);
    return model_->decode_step(first, state);
  };
  for (Precision precision : {Precision::kBf16, Precision::kInt8}) {
    model_->pack_for_decoding(precision);
    DecoderState state;
    const auto with_bf16 = step(state);
    const auto expected = has_avx512() ? torch::kBFloat16 : torch::kFloat32;
    EXPECT_EQ(state.self_attn[0].view().k.scalar_type(), expected);
    EXPECT_EQ(state.cross_attn[0].v.scalar_type(), expected);
    ScopedFusedKernels off(false);  // the reference maths, float32 caches
    const auto with_fp32 = step(state);
    EXPECT_EQ(state.self_attn[0].view().k.scalar_type(), torch::kFloat32);
    EXPECT_LT(relative_error(with_bf16, with_fp32), 0.02) << precision_name(precision);
  }
  model_->pack_for_decoding(Precision::kFp32);
  DecoderState state;
  step(state);
  EXPECT_EQ(state.cross_attn[0].k.scalar_type(), torch::kFloat32);
}

}  // namespace
}  // namespace qkv
