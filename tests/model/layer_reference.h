// Test helper: encoder/decoder layers written out with LibTorch reference ops
// (multi_head_attention_forward, layer_norm, linear), for comparison with our modules.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <ostream>

#include "model/feed_forward.h"
#include "model/layer_options.h"
#include "tests/model/reference_attention.h"

namespace qkv {

/// Readable parameter values in gtest output ("pre" / "post" instead of raw bytes).
inline void PrintTo(NormPosition position, std::ostream* os) {
  *os << (position == NormPosition::kPre ? "pre" : "post");
}

}  // namespace qkv

namespace qkv::test {

inline torch::Tensor reference_layer_norm(const torch::Tensor& x, torch::nn::LayerNorm& norm) {
  return torch::layer_norm(x, {x.size(-1)}, norm->weight, norm->bias, 1e-5);
}

inline torch::Tensor reference_feed_forward(const torch::Tensor& x, FeedForwardImpl& ffn) {
  namespace F = torch::nn::functional;
  auto hidden = torch::relu(F::linear(x, ffn.up_proj()->weight, ffn.up_proj()->bias));
  return F::linear(hidden, ffn.down_proj()->weight, ffn.down_proj()->bias);
}

/// Pre-norm: x + f(norm(x)); post-norm: norm(x + f(x)).
inline torch::Tensor reference_residual(
    const torch::Tensor& x,
    torch::nn::LayerNorm& norm,
    NormPosition position,
    const std::function<torch::Tensor(const torch::Tensor&)>& f) {
  if (position == NormPosition::kPre) {
    return x + f(reference_layer_norm(x, norm));
  }
  return reference_layer_norm(x + f(x), norm);
}

}  // namespace qkv::test
