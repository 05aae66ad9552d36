// Test helper: LibTorch's own multi_head_attention_forward run with the weights of one of our
// MultiHeadAttention modules, converting our keep masks (true = may attend) to its conventions
// (key_padding_mask true = ignore; attn_mask additive float). Used as the reference op.
#pragma once

#include <torch/torch.h>

#include <limits>
#include <utility>

#include "model/attention.h"

namespace qkv::test {

struct ReferenceResult {
  torch::Tensor output;   // [B, Tq, D]
  torch::Tensor weights;  // [B, H, Tq, Tk]
};

/// query [B, Tq, D], key/value [B, Tk, D]; key_keep bool [B, Tk] (true = real key) or
/// undefined; causal: apply a [Tq, Tk] lower-triangular mask (Tq == Tk).
inline ReferenceResult reference_attention(MultiHeadAttentionImpl& attention,
                                           const torch::Tensor& query,
                                           const torch::Tensor& key,
                                           const torch::Tensor& value,
                                           const torch::Tensor& key_keep,
                                           bool causal) {
  namespace F = torch::nn::functional;
  const int64_t d = attention.options().d_model;
  auto in_bias = torch::cat({attention.query_proj()->bias,
                             attention.key_proj()->bias,
                             attention.value_proj()->bias});  // [3D]
  F::MultiheadAttentionForwardFuncOptions options(d,
                                                  attention.options().num_heads,
                                                  /*in_proj_weight=*/{},
                                                  in_bias,
                                                  /*bias_k=*/{},
                                                  /*bias_v=*/{},
                                                  /*add_zero_attn=*/false,
                                                  /*dropout_p=*/0.0,
                                                  attention.output_proj()->weight,
                                                  attention.output_proj()->bias);
  options.training(false)
      .use_separate_proj_weight(true)
      .q_proj_weight(attention.query_proj()->weight)
      .k_proj_weight(attention.key_proj()->weight)
      .v_proj_weight(attention.value_proj()->weight)
      .need_weights(true)
      .average_attn_weights(false);
  if (key_keep.defined()) {
    options.key_padding_mask(key_keep.logical_not());  // [B, Tk], true = ignore
  }
  if (causal) {
    const int64_t t = query.size(1);
    auto allowed = torch::ones({t, t}, torch::kBool).tril();
    options.attn_mask(torch::zeros({t, t}, query.options())
                          .masked_fill(allowed.logical_not(),
                                       -std::numeric_limits<double>::infinity()));  // [T, T]
  }
  auto [output, weights] = F::multi_head_attention_forward(
      query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1), options);
  return {output.transpose(0, 1), weights};  // [B, Tq, D], [B, H, Tq, Tk]
}

/// True if a and b have the same shape and are close (rtol, atol); prints the max difference
/// through the gtest message when used as EXPECT_TRUE(close(...)) << max_abs_diff(a, b).
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

}  // namespace qkv::test
