// The encoder: a stack of layers, each self-attention + position-wise feed-forward, with
// residual connections and LayerNorm (pre-norm or post-norm, see layer_options.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "model/attention.h"
#include "model/feed_forward.h"
#include "model/layer_options.h"

namespace qkv {

class AttentionRecorder;

/// Registered modules: `self_attn`, `self_attn_norm`, `feed_forward`, `feed_forward_norm`.
class EncoderLayerImpl : public torch::nn::Module {
 public:
  explicit EncoderLayerImpl(const LayerOptions& options);

  /// x [B, S, D], src_keep bool [B, 1, 1, S] (true = may attend). Returns [B, S, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& src_keep);

  MultiHeadAttention& self_attn() { return self_attn_; }
  torch::nn::LayerNorm& self_attn_norm() { return self_attn_norm_; }
  FeedForward& feed_forward() { return feed_forward_; }
  torch::nn::LayerNorm& feed_forward_norm() { return feed_forward_norm_; }

 private:
  LayerOptions options_;
  MultiHeadAttention self_attn_{nullptr};
  torch::nn::LayerNorm self_attn_norm_{nullptr};
  FeedForward feed_forward_{nullptr};
  torch::nn::LayerNorm feed_forward_norm_{nullptr};
};
TORCH_MODULE(EncoderLayer);

/// Registered modules: `layers` (ModuleList of EncoderLayer: "layers.0", "layers.1", ...) and,
/// for pre-norm stacks only, `final_norm`.
class EncoderImpl : public torch::nn::Module {
 public:
  EncoderImpl(const LayerOptions& options, int64_t num_layers);

  /// x [B, S, D] (embedded source), src_keep bool [B, 1, 1, S]. Returns memory [B, S, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& src_keep);

  int64_t num_layers() const { return static_cast<int64_t>(layers_->size()); }
  EncoderLayerImpl& layer(int64_t i) { return layers_->at<EncoderLayerImpl>(i); }
  /// The final LayerNorm of a pre-norm stack; empty (is_empty()) for post-norm.
  torch::nn::LayerNorm& final_norm() { return final_norm_; }

  /// Attaches `recorder` (nullptr: detaches) to sites `encoder.{i}.self_attn`.
  void set_recorder(AttentionRecorder* recorder);

 private:
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};  // null for post-norm stacks
};
TORCH_MODULE(Encoder);

}  // namespace qkv
