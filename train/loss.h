// Label-smoothed cross-entropy over target tokens, ignoring padding.
#pragma once

#include <torch/types.h>

namespace qkv {

struct TokenLoss {
  torch::Tensor smoothed_sum;  // scalar: sum over real tokens of the label-smoothed loss
  torch::Tensor nll_sum;       // scalar: sum of -log p(target), for perplexity (no grad needed)
  torch::Tensor num_tokens;    // scalar int64: real (non-pad) target tokens
};

/// logits [B, T, V], targets [B, T] (int64, `pad_id` where there is no token).
/// Per token: (1 - eps) * -log p(y) + eps * mean_c(-log p(c)), the same definition as
/// torch's cross_entropy(label_smoothing=eps); padded positions contribute nothing.
TokenLoss label_smoothed_loss(const torch::Tensor& logits,
                              const torch::Tensor& targets,
                              double epsilon,
                              int64_t pad_id);

}  // namespace qkv
