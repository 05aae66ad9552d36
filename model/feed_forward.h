// Position-wise feed-forward network: the same two-layer MLP applied to every position.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "model/linear.h"

namespace qkv {

struct FeedForwardOptions {
  int64_t d_model = 256;  ///< D: input and output width
  int64_t d_ff = 1024;    ///< hidden width
  double dropout = 0.0;   ///< dropout on the hidden activations (training only)
};

/// down_proj(dropout(relu(up_proj(x)))). Registered modules: `up_proj` (Linear D -> d_ff),
/// `down_proj` (Linear d_ff -> D), both with bias.
class FeedForwardImpl : public torch::nn::Module {
 public:
  explicit FeedForwardImpl(const FeedForwardOptions& options);

  /// x [B, T, D] -> [B, T, D].
  torch::Tensor forward(const torch::Tensor& x);

  Linear& up_proj() { return up_proj_; }
  Linear& down_proj() { return down_proj_; }

 private:
  FeedForwardOptions options_;
  Linear up_proj_{nullptr};
  Linear down_proj_{nullptr};
};
TORCH_MODULE(FeedForward);

}  // namespace qkv
