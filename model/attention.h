// Scaled dot-product attention and multi-head attention, written out so that Q, K, V and the
// weights can be looked at. This file is the maths only: masks are built in masks.h, recording
// lives in attention_recorder.h, caching in kv_cache.h.
//
// Glossary (used in every shape comment of model/):
//   B   batch size (rows; batch x beam during beam search)
//   H   attention heads
//   Tq  query positions, Tk key/value positions (S source, T target length)
//   D   d_model, the width of the residual stream
//   Dh  D / H, the width of one head
// Inputs to attention are `query`, `key`, `value` [B, T, D]; after projection and the split into
// heads they are `q`, `k`, `v` [B, H, T, Dh].
//
// Mask convention: `keep_mask` is a bool tensor broadcastable to [B, H, Tq, Tk],
// true = may attend. An undefined keep_mask means every key may be attended to.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/kv_cache.h"
#include "model/linear.h"

namespace qkv {

class AttentionRecorder;

/// softmax(q k^T / sqrt(Dh)) with positions where `keep_mask` is false set to exactly 0.
/// q [B, H, Tq, Dh], k [B, H, Tk, Dh], keep_mask bool broadcastable to [B, H, Tq, Tk] (true =
/// may attend) or undefined. Returns [B, H, Tq, Tk]. A row with no key kept is NaN (loud: data
/// never produces it, since every sequence holds at least one real token).
torch::Tensor attention_weights(const torch::Tensor& q,
                                const torch::Tensor& k,
                                const torch::Tensor& keep_mask);

struct MultiHeadAttentionOptions {
  int64_t d_model = 256;  ///< D: width of queries, keys, values and of the output
  int64_t num_heads = 4;  ///< H: must divide d_model
  double dropout = 0.0;   ///< dropout on the attention weights (training only)
  /// Run the projections of one input as one GEMM (self-attention: Q, K, V; cross-attention:
  /// K, V). Same result as separate GEMMs up to float rounding; the parameters stay separate.
  bool fuse_projections = true;
};

/// Multi-head attention with separate projections named for what they are. Registered
/// modules: `query_proj`, `key_proj`, `value_proj`, `output_proj` (Linear D -> D, with bias).
/// One signature serves all three uses:
///   encoder self-attention   forward(x, x, x, src_keep)
///   decoder self-attention   forward(y, y, y, causal & tgt_keep)
///   cross-attention          forward(y, memory, memory, src_keep): Q from the target stream,
///                            K and V from the encoder output.
/// With options.fuse_projections, projections of the same input tensor run as one GEMM.
class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  /// Throws std::invalid_argument if num_heads does not divide d_model.
  explicit MultiHeadAttentionImpl(const MultiHeadAttentionOptions& options);

  /// query [B, Tq, D], key and value [B, Tk, D], keep_mask bool broadcastable to
  /// [B, H, Tq, Tk] (true = may attend) or undefined. Returns [B, Tq, D].
  torch::Tensor forward(const torch::Tensor& query,
                        const torch::Tensor& key,
                        const torch::Tensor& value,
                        const torch::Tensor& keep_mask = {});

  /// Projects key and value [B, Tk, D] and splits them into heads: k, v [B, H, Tk, Dh].
  /// Cross-attention projects the encoder memory once per sentence with this.
  KeyValue project_key_value(const torch::Tensor& key, const torch::Tensor& value);

  /// Attention of query [B, Tq, D] over already projected keys/values [B, H, Tk, Dh].
  /// keep_mask as in forward(). Returns [B, Tq, D].
  torch::Tensor forward_projected(const torch::Tensor& query,
                                  const KeyValue& memory,
                                  const torch::Tensor& keep_mask = {});

  /// Self-attention of new positions x [B, n, D] over the cached past positions and
  /// themselves; appends their keys and values to `cache` first. keep_mask is over
  /// [B, H, n, cache.length() + n] (undefined: attend to everything, right for n = 1).
  /// Returns [B, n, D].
  torch::Tensor forward_cached(const torch::Tensor& x,
                               KeyValueCache& cache,
                               const torch::Tensor& keep_mask = {});

  /// Attaches (or, with nullptr, detaches) a recorder; calls are recorded under `site`.
  void set_recorder(AttentionRecorder* recorder, std::string site);

  /// Switches off `heads` (each in [0, H)): their outputs are zeroed before the output
  /// projection, in every forward path. Empty: all heads on, and no extra work at all. For
  /// inference and teacher-forced scoring (head_mask.h); throws std::invalid_argument for a head
  /// out of range. Call after moving the module to its device.
  void set_heads_off(const std::vector<int64_t>& heads);

  /// Packs the fused [W_q; W_k; W_v] and [W_k; W_v] for decoding in `precision` (linear.h);
  /// the four Linear modules are packed by their owner's walk over all modules
  /// (TransformerImpl::pack_for_decoding). unpack_fused_projections() undoes it.
  void pack_fused_projections(Precision precision);
  void unpack_fused_projections();

  /// The dtype decoding caches keep this site's keys and values in: bfloat16 while packed in
  /// bf16 or int8 on a CPU with AVX-512 and with the fused kernels on (attention_kernel.h
  /// reads bf16 rows there), float32 otherwise.
  torch::ScalarType cache_dtype() const;

  const MultiHeadAttentionOptions& options() const { return options_; }
  Linear& query_proj() { return query_proj_; }
  Linear& key_proj() { return key_proj_; }
  Linear& value_proj() { return value_proj_; }
  Linear& output_proj() { return output_proj_; }

 private:
  torch::Tensor split_heads(const torch::Tensor& x) const;  // [B, T, D] -> [B, H, T, Dh]
  torch::Tensor merge_heads(const torch::Tensor& x) const;  // [B, H, T, Dh] -> [B, T, D]
  torch::Tensor project_query(const torch::Tensor& query);  // [B, T, D] -> [B, H, T, Dh]
  // Self-attention projections of x [B, T, D]: q and {k, v}, each [B, H, T, Dh].
  std::pair<torch::Tensor, KeyValue> project_self(const torch::Tensor& x);
  // [W_q; W_k; W_v] [3D, D] and [b_q; b_k; b_v] [3D], or without the query's: [2D, D], [2D].
  torch::Tensor stacked_weight(bool with_query) const;
  torch::Tensor stacked_bias(bool with_query) const;
  // Attention of q [B, H, Tq, Dh] over kv [B, H, Tk, Dh], output projection included:
  // [B, Tq, D]. attend() is the reference maths; attend_fused() the same through the kernel.
  torch::Tensor attend(const torch::Tensor& q, const KeyValue& kv, const torch::Tensor& keep_mask);
  torch::Tensor attend_fused(const torch::Tensor& q,
                             const KeyValue& kv,
                             const torch::Tensor& keep_mask);
  // x with the switched-off heads zeroed; its dimension `head_dim` is the H heads.
  torch::Tensor switch_off_heads(const torch::Tensor& x, int64_t head_dim) const;

  MultiHeadAttentionOptions options_;
  Linear query_proj_{nullptr};
  Linear key_proj_{nullptr};
  Linear value_proj_{nullptr};
  Linear output_proj_{nullptr};
  std::optional<PackedLinear> packed_qkv_;  // [W_q; W_k; W_v] while packed for decoding
  std::optional<PackedLinear> packed_kv_;   // [W_k; W_v] while packed for decoding
  bool packed_low_precision_ = false;       // packed in bf16 or int8
  AttentionRecorder* recorder_ = nullptr;   // not owned; null = recording off
  std::string site_;
  torch::Tensor heads_off_;  // bool [H], true = switched off; undefined = all heads on
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace qkv
