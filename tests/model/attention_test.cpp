// Tests of model/attention: our attention against LibTorch's reference
// multi_head_attention_forward (outputs, per-head weights, gradients) on both paths, the fused
// kernel and the reference maths; and the properties of attention weights.
#include "model/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/attention_recorder.h"
#include "model/kernels/dispatch.h"
#include "model/masks.h"
#include "tests/model/reference_attention.h"

namespace qkv {
namespace {

using test::max_abs_diff;
using test::reference_attention;

constexpr int64_t kDModel = 16;
constexpr int64_t kHeads = 4;

MultiHeadAttention make_attention(bool fuse = true) {
  MultiHeadAttentionOptions options;
  options.d_model = kDModel;
  options.num_heads = kHeads;
  options.fuse_projections = fuse;
  MultiHeadAttention attention(options);
  // Non-zero biases, so that a wrong bias slice would show.
  torch::NoGradGuard no_grad;
  for (auto& p : attention->parameters()) {
    p.uniform_(-0.5, 0.5);
  }
  attention->eval();
  return attention;
}

// Lengths per row -> keep mask over keys [B, T] (true = real token).
torch::Tensor keep_from_lengths(const std::vector<int64_t>& lengths, int64_t t) {
  auto positions = torch::arange(t).unsqueeze(0);                        // [1, T]
  return positions < torch::tensor(lengths, torch::kLong).unsqueeze(1);  // [B, T]
}

struct Run {
  torch::Tensor output;   // [B, Tq, D]
  torch::Tensor weights;  // [B, H, Tq, Tk]
};

Run run_recorded(MultiHeadAttention& attention,
                 const torch::Tensor& query,
                 const torch::Tensor& key,
                 const torch::Tensor& value,
                 const torch::Tensor& keep_mask) {
  AttentionRecorder recorder;
  attention->set_recorder(&recorder, "site");
  auto output = attention(query, key, value, keep_mask);
  attention->set_recorder(nullptr, "");
  return {output, recorder.at("site").at(0).weights};
}

void expect_matches_reference(const Run& ours, const test::ReferenceResult& reference) {
  ASSERT_EQ(ours.output.sizes(), reference.output.sizes());
  ASSERT_EQ(ours.weights.sizes(), reference.weights.sizes());
  EXPECT_TRUE(torch::allclose(ours.output, reference.output, 1e-5, 1e-5))
      << "output max |diff| " << max_abs_diff(ours.output, reference.output);
  EXPECT_TRUE(torch::allclose(ours.weights, reference.weights, 1e-5, 1e-6))
      << "weights max |diff| " << max_abs_diff(ours.weights, reference.weights);
}

// Which implementation runs: the fused attention kernel or the reference maths of attend()
// (fused_kernels), and one GEMM or separate GEMMs for the projections (fuse_projections).
struct AttentionPath {
  bool fused_kernels;
  bool fuse_projections;
};

class AttentionReferenceTest : public ::testing::TestWithParam<AttentionPath> {
 protected:
  static MultiHeadAttention seeded_attention(bool fuse_projections) {
    torch::manual_seed(0);  // the same weights whatever ran before
    return make_attention(fuse_projections);
  }

  ScopedFusedKernels kernels_{GetParam().fused_kernels};
  MultiHeadAttention attention_ = seeded_attention(GetParam().fuse_projections);
};

TEST_P(AttentionReferenceTest, EncoderSelfAttentionWithPaddingMatchesLibTorch) {
  torch::manual_seed(1);
  auto x = torch::randn({3, 6, kDModel});
  auto key_keep = keep_from_lengths({6, 4, 1}, 6);      // [B, S]
  auto keep_mask = key_keep.unsqueeze(1).unsqueeze(1);  // [B, 1, 1, S]
  auto ours = run_recorded(attention_, x, x, x, keep_mask);
  expect_matches_reference(ours, reference_attention(*attention_, x, x, x, key_keep, false));
}

TEST_P(AttentionReferenceTest, DecoderSelfAttentionWithCausalAndPaddingMatchesLibTorch) {
  torch::manual_seed(2);
  auto tokens = torch::tensor({{2, 5, 6, 7, 8}, {2, 9, 4, 0, 0}}, torch::kLong);  // pad = 0
  auto y = torch::randn({2, 5, kDModel});
  auto keep_mask = make_target_mask(tokens, /*pad_id=*/0);  // [B, 1, T, T]
  auto ours = run_recorded(attention_, y, y, y, keep_mask);
  auto reference = reference_attention(*attention_, y, y, y, tokens.ne(0), /*causal=*/true);
  expect_matches_reference(ours, reference);
}

TEST_P(AttentionReferenceTest, CrossAttentionWithDifferentLengthsMatchesLibTorch) {
  torch::manual_seed(3);
  auto y = torch::randn({3, 4, kDModel});       // target stream: Tq = 4
  auto memory = torch::randn({3, 7, kDModel});  // encoder output: Tk = 7
  auto key_keep = keep_from_lengths({7, 3, 5}, 7);
  auto ours = run_recorded(attention_, y, memory, memory, key_keep.unsqueeze(1).unsqueeze(1));
  EXPECT_EQ(ours.output.sizes(), (std::vector<int64_t>{3, 4, kDModel}));
  EXPECT_EQ(ours.weights.sizes(), (std::vector<int64_t>{3, kHeads, 4, 7}));
  expect_matches_reference(ours,
                           reference_attention(*attention_, y, memory, memory, key_keep, false));
}

TEST_P(AttentionReferenceTest, DistinctKeyAndValueWithoutMaskMatchLibTorch) {
  torch::manual_seed(4);
  auto query = torch::randn({2, 3, kDModel});
  auto key = torch::randn({2, 5, kDModel});
  auto value = torch::randn({2, 5, kDModel});
  auto ours = run_recorded(attention_, query, key, value, {});
  expect_matches_reference(ours, reference_attention(*attention_, query, key, value, {}, false));
}

TEST_P(AttentionReferenceTest, GradientsMatchLibTorch) {
  // Causal self-attention with padding and cross-attention: gradients of the inputs and of
  // every projection weight, ours against those through multi_head_attention_forward.
  torch::manual_seed(5);
  auto tokens = torch::tensor({{2, 5, 6, 7}, {2, 9, 0, 0}}, torch::kLong);  // pad = 0
  auto y = torch::randn({2, 4, kDModel}, torch::requires_grad());
  auto memory = torch::randn({2, 6, kDModel}, torch::requires_grad());
  auto memory_keep = keep_from_lengths({6, 2}, 6);  // [B, S]
  auto upstream = torch::randn({2, 4, kDModel});
  auto gradients = [&](const torch::Tensor& self_out, const torch::Tensor& cross_out) {
    attention_->zero_grad();
    y.mutable_grad().reset();
    memory.mutable_grad().reset();
    ((self_out + cross_out) * upstream).sum().backward();
    std::vector<torch::Tensor> all = {y.grad().clone(), memory.grad().clone()};
    for (const auto& p : attention_->parameters()) all.push_back(p.grad().clone());
    return all;
  };
  auto ours = gradients(attention_(y, y, y, make_target_mask(tokens, 0)),
                        attention_(y, memory, memory, memory_keep.unsqueeze(1).unsqueeze(1)));
  auto reference =
      gradients(reference_attention(*attention_, y, y, y, tokens.ne(0), true).output,
                reference_attention(*attention_, y, memory, memory, memory_keep, false).output);
  ASSERT_EQ(ours.size(), reference.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_TRUE(torch::allclose(ours[i], reference[i], 1e-4, 1e-5))
        << "gradient " << i << ": max |diff| " << max_abs_diff(ours[i], reference[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(KernelAndReference,
                         AttentionReferenceTest,
                         ::testing::Values(AttentionPath{true, true},
                                           AttentionPath{true, false},
                                           AttentionPath{false, true},
                                           AttentionPath{false, false}),
                         [](const ::testing::TestParamInfo<AttentionPath>& param_info) {
                           return std::string(param_info.param.fused_kernels ? "FusedKernel"
                                                                             : "ReferenceMaths") +
                                  (param_info.param.fuse_projections ? "_FusedProjections"
                                                                     : "_SeparateProjections");
                         });

TEST(AttentionWeights, EqualLibTorchWeightsWithIdentityProjections) {
  // With identity projections and zero biases, the reference's per-head weights are
  // exactly softmax(q k^T / sqrt(Dh)) of the split inputs: attention_weights itself.
  torch::manual_seed(5);
  auto attention = make_attention();
  {
    torch::NoGradGuard no_grad;
    for (auto* linear : {&attention->query_proj(),
                         &attention->key_proj(),
                         &attention->value_proj(),
                         &attention->output_proj()}) {
      (*linear)->weight.copy_(torch::eye(kDModel));
      (*linear)->bias.zero_();
    }
  }
  auto query = torch::randn({2, 3, kDModel});
  auto key = torch::randn({2, 5, kDModel});
  auto key_keep = keep_from_lengths({5, 2}, 5);
  auto split = [](const torch::Tensor& x) {
    return x.view({x.size(0), x.size(1), kHeads, kDModel / kHeads}).transpose(1, 2);
  };
  auto weights = attention_weights(split(query), split(key), key_keep.unsqueeze(1).unsqueeze(1));
  auto reference = reference_attention(*attention, query, key, key, key_keep, false);
  EXPECT_TRUE(torch::allclose(weights, reference.weights, 1e-5, 1e-6))
      << max_abs_diff(weights, reference.weights);
}

TEST(AttentionWeights, RowsSumToOneAndMaskedPositionsAreExactlyZero) {
  torch::manual_seed(6);
  auto q = torch::randn({2, 3, 5, 8}) * 4;  // large scores: softmax close to one-hot
  auto k = torch::randn({2, 3, 5, 8}) * 4;
  auto tokens = torch::tensor({{2, 4, 5, 6, 7}, {2, 4, 5, 0, 0}}, torch::kLong);
  auto keep = make_target_mask(tokens, /*pad_id=*/0);  // [B, 1, T, T]
  auto weights = attention_weights(q, k, keep);        // [B, H, T, T]
  EXPECT_TRUE(torch::allclose(weights.sum(-1), torch::ones({2, 3, 5}), 1e-6, 1e-6));
  auto masked = weights.masked_select(keep.logical_not().expand_as(weights));
  ASSERT_GT(masked.numel(), 0);
  EXPECT_TRUE(torch::equal(masked, torch::zeros_like(masked)));  // exactly 0, not 1e-9
  EXPECT_TRUE(torch::equal(weights, weights.tril()));            // lower-triangular
  EXPECT_TRUE((weights.masked_select(keep.expand_as(weights)) > 0).all().item<bool>());
}

TEST(AttentionWeights, FullyMaskedRowIsNaN) {
  // No key to attend to is a data bug; -inf makes it loud instead of a silent uniform row.
  auto q = torch::randn({1, 1, 2, 4});
  auto k = torch::randn({1, 1, 3, 4});
  auto keep = torch::zeros({1, 1, 1, 3}, torch::kBool);
  EXPECT_TRUE(torch::isnan(attention_weights(q, k, keep)).all().item<bool>());
}

TEST(MultiHeadAttention, RegistersNamedProjections) {
  auto attention = make_attention();
  std::vector<std::string> names;
  for (const auto& entry : attention->named_parameters()) {
    names.push_back(entry.key());
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"query_proj.weight",
                                      "query_proj.bias",
                                      "key_proj.weight",
                                      "key_proj.bias",
                                      "value_proj.weight",
                                      "value_proj.bias",
                                      "output_proj.weight",
                                      "output_proj.bias"}));
}

TEST(MultiHeadAttention, RejectsHeadsThatDoNotDivideDModel) {
  MultiHeadAttentionOptions options;
  options.d_model = 10;
  options.num_heads = 4;
  try {
    MultiHeadAttention attention(options);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("num_heads 4 must divide d_model 10"),
              std::string::npos)
        << error.what();
  }
}

TEST(MultiHeadAttention, RejectsQueryOfWrongWidth) {
  auto attention = make_attention();
  auto x = torch::randn({2, 3, kDModel + 1});
  EXPECT_THROW(attention(x, x, x, torch::Tensor()), c10::Error);
}

TEST(MultiHeadAttention, ProjectedMemoryGivesSameOutputAsForward) {
  torch::manual_seed(7);
  auto attention = make_attention();
  auto y = torch::randn({2, 3, kDModel});
  auto memory = torch::randn({2, 6, kDModel});
  auto keep = keep_from_lengths({6, 4}, 6).unsqueeze(1).unsqueeze(1);
  auto full = attention(y, memory, memory, keep);
  auto projected =
      attention->forward_projected(y, attention->project_key_value(memory, memory), keep);
  EXPECT_TRUE(torch::allclose(full, projected, 1e-6, 1e-6)) << max_abs_diff(full, projected);
}

TEST(MultiHeadAttention, CachedSelfAttentionStepsEqualCausalForward) {
  torch::manual_seed(8);
  auto attention = make_attention();
  auto y = torch::randn({2, 5, kDModel});
  auto full = attention(y, y, y, make_causal_mask(5));  // [B, T, D]
  torch::NoGradGuard no_grad;
  KeyValueCache cache;
  for (int64_t t = 0; t < 5; ++t) {
    auto step = attention->forward_cached(y.narrow(1, t, 1), cache);  // [B, 1, D]
    EXPECT_TRUE(torch::allclose(step, full.narrow(1, t, 1), 1e-5, 1e-6))
        << "step " << t << ": " << max_abs_diff(step, full.narrow(1, t, 1));
  }
  EXPECT_EQ(cache.length(), 5);
}

TEST(MultiHeadAttention, RecordedProjectionsReproduceTheOutput) {
  torch::manual_seed(9);
  auto attention = make_attention();
  auto y = torch::randn({2, 3, kDModel});
  auto memory = torch::randn({2, 4, kDModel});
  AttentionRecorder recorder(AttentionRecorderOptions{/*keep_projections=*/true});
  attention->set_recorder(&recorder, "decoder.0.cross_attn");
  auto output = attention(y, memory, memory, torch::Tensor());
  const auto& record = recorder.at("decoder.0.cross_attn").at(0);
  const int64_t dh = kDModel / kHeads;
  auto q = attention->query_proj()(y).view({2, 3, kHeads, dh}).transpose(1, 2);
  auto k = attention->key_proj()(memory).view({2, 4, kHeads, dh}).transpose(1, 2);
  auto v = attention->value_proj()(memory).view({2, 4, kHeads, dh}).transpose(1, 2);
  EXPECT_TRUE(torch::allclose(record.q, q, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(record.k, k, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(record.v, v, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(record.head_outputs, torch::matmul(record.weights, record.v)));
  // Merging the recorded head outputs and projecting them gives the module's output.
  auto merged = record.head_outputs.transpose(1, 2).reshape({2, 3, kDModel});
  EXPECT_TRUE(torch::allclose(attention->output_proj()(merged), output, 1e-6, 1e-6));
  EXPECT_FALSE(record.weights.requires_grad());
}

TEST(MultiHeadAttention, DropoutOnWeightsOnlyInTraining) {
  torch::manual_seed(10);
  MultiHeadAttentionOptions options;
  options.d_model = kDModel;
  options.num_heads = kHeads;
  options.dropout = 0.5;
  MultiHeadAttention attention(options);
  auto x = torch::randn({2, 4, kDModel});
  attention->eval();
  auto first = attention(x, x, x, torch::Tensor());
  EXPECT_TRUE(torch::equal(first, attention(x, x, x, torch::Tensor())));
  attention->train();
  EXPECT_FALSE(torch::allclose(first, attention(x, x, x, torch::Tensor())));
}

// Without a recorder and without the fused kernel (a GPU, or QKV_NO_FUSED=1), LibTorch 2.x runs
// attend() as scaled_dot_product_attention (model/torch_compat.h), 1.13 as the definition: both
// must give LibTorch's reference outputs and gradients for every kind of mask.
TEST(MultiHeadAttention, UnrecordedPlainPathMatchesLibTorch) {
  ScopedFusedKernels off(false);
  torch::manual_seed(0);
  auto attention = make_attention();
  auto tokens = torch::tensor({{2, 5, 6, 7, 8}, {2, 9, 4, 0, 0}}, torch::kLong);  // pad = 0
  auto y = torch::randn({2, 5, kDModel}, torch::requires_grad());
  auto memory = torch::randn({2, 7, kDModel}, torch::requires_grad());
  auto memory_keep = keep_from_lengths({7, 3}, 7);  // [B, S]
  auto ours = attention(y, y, y, make_target_mask(tokens, /*pad_id=*/0)) +
              attention(y, memory, memory, memory_keep.unsqueeze(1).unsqueeze(1)) +
              attention(y, memory, memory, torch::Tensor());
  auto reference = reference_attention(*attention, y, y, y, tokens.ne(0), true).output +
                   reference_attention(*attention, y, memory, memory, memory_keep, false).output +
                   reference_attention(*attention, y, memory, memory, {}, false).output;
  EXPECT_TRUE(torch::allclose(ours, reference, 1e-5, 1e-5))
      << "max |diff| " << max_abs_diff(ours, reference);
  const auto weights = torch::randn_like(ours);
  const std::vector<torch::Tensor> inputs = {y, memory};
  auto grads = torch::autograd::grad({(ours * weights).sum()}, inputs);
  auto reference_grads = torch::autograd::grad({(reference * weights).sum()}, inputs);
  for (size_t i = 0; i < grads.size(); ++i) {
    EXPECT_TRUE(torch::allclose(grads[i], reference_grads[i], 1e-4, 1e-5))
        << "input " << i << " max |diff| " << max_abs_diff(grads[i], reference_grads[i]);
  }
}

}  // namespace
}  // namespace qkv
