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

/// The layer options both layer tests use: D 16, 4 heads, dropout that eval mode must switch off.
inline LayerOptions layer_test_options(NormPosition norm) {
  LayerOptions options;
  options.d_model = 16;
  options.num_heads = 4;
  options.d_ff = 24;
  options.dropout = 0.3;  // must be inactive in eval mode
  options.attention_dropout = 0.3;
  options.norm = norm;
  return options;
}

/// Gives every parameter (LayerNorms included) non-trivial values in [-0.5, 0.5], so that a
/// skipped or misplaced norm shows.
inline void randomise(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    p.uniform_(-0.5, 0.5);
  }
}

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
