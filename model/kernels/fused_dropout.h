// Dropout as single passes over memory, fused with the op it follows: plain dropout
// (embeddings, attention weights), x + dropout(y) (residual connections) and dropout(relu(x))
// (feed-forward hidden layer). Each is an autograd function with its own backward.
//
// The keep decisions come from a counter-based hash (vector_math.h KeepMask) seeded by
// draw_seed(), so torch::manual_seed makes runs repeatable; backward regenerates the mask from
// the seed instead of storing it. LibTorch 1.13's bernoulli_ draws one double per element from
// mt19937 (~8 ns each), which made dropout a visible part of a training step.
//
// The readable API is model/dropout.h, which defines the semantics with torch::dropout and
// calls these when fused_enabled() and fused_dropout_supports() say so. Training only: the
// callers handle p = 0 and eval mode.
#pragma once

#include <torch/torch.h>

namespace qkv {

/// True when fused_dropout() and fused_relu_dropout() can run x (float32, CPU).
bool fused_dropout_supports(const torch::Tensor& x);

/// True when fused_add_dropout() can run x and y (both supported, of the same shape).
bool fused_add_dropout_supports(const torch::Tensor& x, const torch::Tensor& y);

/// dropout(x): each element kept with probability 1 - p and scaled by 1 / (1 - p), p in
/// (0, 1). Returns a new contiguous tensor of x's shape. Throws c10::Error for an unsupported x.
torch::Tensor fused_dropout(const torch::Tensor& x, double p);

/// x + dropout(y), x and y of the same shape; gradient 1 for x, the scaled mask for y.
torch::Tensor fused_add_dropout(const torch::Tensor& x, const torch::Tensor& y, double p);

/// dropout(relu(x)).
torch::Tensor fused_relu_dropout(const torch::Tensor& x, double p);

}  // namespace qkv
