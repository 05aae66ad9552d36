// Dropout for training, including the two places it follows another op: x + dropout(y)
// (residual connections) and dropout(relu(x)) (feed-forward hidden layer).
//
// Semantics are torch::dropout's, and dropout.cpp computes them with it: in training each
// element is kept with probability 1 - p and scaled by 1 / (1 - p); outside training (or with
// p = 0) the op is the identity. When fused_enabled() (kernels/dispatch.h), float32 CPU tensors
// go through the single-pass kernels of kernels/fused_dropout.h instead: same semantics, keep
// decisions drawn differently (a counter-based hash seeded from LibTorch's default CPU
// generator, so torch::manual_seed still makes runs repeatable).
#pragma once

#include <torch/torch.h>

namespace qkv {

/// dropout(x), x any shape; returns x's shape. (Not named `dropout`: with a Tensor argument,
/// argument-dependent lookup would make calls ambiguous with at::dropout.)
torch::Tensor apply_dropout(const torch::Tensor& x, double p, bool training);

/// x + dropout(y): x and y of the same shape (the residual sum of one sublayer).
torch::Tensor add_dropout(const torch::Tensor& x, const torch::Tensor& y, double p, bool training);

/// dropout(relu(x)).
torch::Tensor relu_dropout(const torch::Tensor& x, double p, bool training);

}  // namespace qkv
