// Options shared by encoder and decoder layers, and the residual wiring of one sublayer
// (pre-norm or post-norm).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>

#include "model/config.h"
#include "model/dropout.h"

namespace qkv {

struct LayerOptions {
  int64_t d_model = 256;                   ///< D
  int64_t num_heads = 4;                   ///< H, divides D
  int64_t d_ff = 1024;                     ///< feed-forward hidden width
  double dropout = 0.1;                    ///< on sublayer outputs and the FFN hidden layer
  double attention_dropout = 0.1;          ///< on attention weights
  NormPosition norm = NormPosition::kPre;  ///< pre-norm or post-norm
};

/// LayerNorm over the last dimension D (weight 1, bias 0, eps 1e-5).
inline torch::nn::LayerNorm make_layer_norm(int64_t d_model) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model}));
}

/// One residual sublayer around `sublayer` (a callable Tensor(const Tensor&)), with LayerNorm
/// before it (pre-norm) or after the residual sum (post-norm). x [B, T, D] -> [B, T, D].
template <class Sublayer>
torch::Tensor residual(const torch::Tensor& x,
                       torch::nn::LayerNorm& norm,
                       const LayerOptions& options,
                       bool training,
                       Sublayer&& sublayer) {
  // add_dropout: x + dropout(y) in one pass (see dropout.h).
  if (options.norm == NormPosition::kPre) {
    return add_dropout(x, sublayer(norm(x)), options.dropout, training);  // [B, T, D]
  }
  return norm(add_dropout(x, sublayer(x), options.dropout, training));  // [B, T, D]
}

}  // namespace qkv
