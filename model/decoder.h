// The decoder: a stack of layers, each masked self-attention + cross-attention over the
// encoder memory + position-wise feed-forward; and the state for incremental decoding.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "model/attention.h"
#include "model/feed_forward.h"
#include "model/kv_cache.h"
#include "model/layer_options.h"

namespace qkv {

class AttentionRecorder;

/// What the decoder keeps between incremental steps, for B rows (sentences, or sentences x
/// beams). Made by TransformerImpl::start_decoding(); advanced by decode_step().
struct DecoderState {
  torch::Tensor src_keep;                // bool [B, 1, 1, S] (true = may attend)
  std::vector<KeyValueCache> self_attn;  // per layer: keys/values of the tokens so far
  std::vector<KeyValue> cross_attn;      // per layer: projected memory [B, H, S, Dh], made once
  int64_t length = 0;                    // tokens consumed so far = position of the next one

  /// Rows in the state.
  int64_t batch_size() const { return src_keep.size(0); }

  /// Keeps rows `index` (int64 [B'] on the state's device, repeats allowed) of every cache
  /// and of src_keep, as index_select(0, index). Expands a batch to beams (repeat_interleave)
  /// or follows beam search's choice of parent hypotheses.
  void reorder(const torch::Tensor& index);

  /// Like reorder() but leaves the source side (cross-attention K/V, src_keep) alone. Valid
  /// only when every row i and index[i] share the same source sentence, as beams of one
  /// sentence do; saves copying the memory keys/values every beam step.
  void reorder_target(const torch::Tensor& index);
};

/// Registered modules: `self_attn`, `self_attn_norm`, `cross_attn`, `cross_attn_norm`,
/// `feed_forward`, `feed_forward_norm`.
class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(const LayerOptions& options);

  /// y [B, T, D] (embedded target), memory [B, S, D], src_keep bool [B, 1, 1, S],
  /// tgt_keep bool [B, 1, T, T] (causal & padding; true = may attend). Returns [B, T, D].
  torch::Tensor forward(const torch::Tensor& y,
                        const torch::Tensor& memory,
                        const torch::Tensor& src_keep,
                        const torch::Tensor& tgt_keep);

  /// One incremental step: y [B, 1, D] attends to the cached past (appending its own keys)
  /// and to the pre-projected memory. Returns [B, 1, D].
  torch::Tensor forward_step(const torch::Tensor& y,
                             KeyValueCache& self_cache,
                             const KeyValue& memory,
                             const torch::Tensor& src_keep);

  MultiHeadAttention& self_attn() { return self_attn_; }
  torch::nn::LayerNorm& self_attn_norm() { return self_attn_norm_; }
  MultiHeadAttention& cross_attn() { return cross_attn_; }
  torch::nn::LayerNorm& cross_attn_norm() { return cross_attn_norm_; }
  FeedForward& feed_forward() { return feed_forward_; }
  torch::nn::LayerNorm& feed_forward_norm() { return feed_forward_norm_; }

 private:
  LayerOptions options_;
  MultiHeadAttention self_attn_{nullptr};
  torch::nn::LayerNorm self_attn_norm_{nullptr};
  MultiHeadAttention cross_attn_{nullptr};
  torch::nn::LayerNorm cross_attn_norm_{nullptr};
  FeedForward feed_forward_{nullptr};
  torch::nn::LayerNorm feed_forward_norm_{nullptr};
};
TORCH_MODULE(DecoderLayer);

/// Registered modules: `layers` (ModuleList of DecoderLayer) and, for pre-norm stacks only,
/// `final_norm`.
class DecoderImpl : public torch::nn::Module {
 public:
  DecoderImpl(const LayerOptions& options, int64_t num_layers);

  /// y [B, T, D], memory [B, S, D], src_keep [B, 1, 1, S], tgt_keep [B, 1, T, T].
  /// Returns the decoder output [B, T, D] (before the vocabulary projection).
  torch::Tensor forward(const torch::Tensor& y,
                        const torch::Tensor& memory,
                        const torch::Tensor& src_keep,
                        const torch::Tensor& tgt_keep);

  /// Projects the memory [B, S, D] once for every cross-attention; empty self-attention caches.
  DecoderState start(const torch::Tensor& memory, const torch::Tensor& src_keep);

  /// One step for y [B, 1, D] (the embedded last token of every row). Returns [B, 1, D] and
  /// advances state.length.
  torch::Tensor step(const torch::Tensor& y, DecoderState& state);

  int64_t num_layers() const { return static_cast<int64_t>(layers_->size()); }
  DecoderLayerImpl& layer(int64_t i) { return layers_->at<DecoderLayerImpl>(i); }
  /// The final LayerNorm of a pre-norm stack; empty (is_empty()) for post-norm.
  torch::nn::LayerNorm& final_norm() { return final_norm_; }

  /// Attaches `recorder` (nullptr: detaches) to `decoder.{i}.self_attn` and
  /// `decoder.{i}.cross_attn`.
  void set_recorder(AttentionRecorder* recorder);

 private:
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};  // null for post-norm stacks
};
TORCH_MODULE(Decoder);

}  // namespace qkv
