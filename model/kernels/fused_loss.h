// The label-smoothed cross-entropy of train/loss.h as one pass per row of logits, with its own
// backward. LibTorch's composite (log_softmax, gather, mean, where, then the backward of each)
// reads and writes the [N, V] logits many times, and Debian's LibTorch 1.13 has no vectorised
// exp, so the loss cost as much as a fifth of a training step at V = 8000.
//
// train/loss.cpp holds the definition in LibTorch ops and calls this when fused_enabled() and
// fused_loss_supports() say so (tests compare the two, values and gradients).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>

namespace qkv {

/// True when fused_label_smoothed_sums() can run logits and targets (float32 logits and int64
/// targets, both on the CPU).
bool fused_loss_supports(const torch::Tensor& logits, const torch::Tensor& targets);

/// logits [N, V], targets [N] (`pad_id` where there is no token). Per real token:
/// (1 - eps) * -log p(y) + eps * mean_c(-log p(c)); returns {sum of that over real tokens
/// (differentiable in logits), sum of -log p(y) (detached)}, both float32 scalars. Backward
/// may run once per forward (it reuses the forward's buffer). Throws c10::Error for a target
/// id outside [0, V) or unsupported tensors.
std::pair<torch::Tensor, torch::Tensor> fused_label_smoothed_sums(const torch::Tensor& logits,
                                                                  const torch::Tensor& targets,
                                                                  double epsilon,
                                                                  int64_t pad_id);

}  // namespace qkv
