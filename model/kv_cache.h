// Key/value storage for incremental decoding.
//
// KeyValue holds keys and values already projected and split into heads. KeyValueCache grows
// one decoding step at a time (decoder self-attention): it writes new keys into a buffer with
// spare capacity instead of re-concatenating the whole history every step.
//
// Glossary: B batch (rows; batch x beam in beam search), H heads, T cached positions,
// Dh = d_model / H.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace qkv {

/// Projected keys and values of one attention site, split into heads.
struct KeyValue {
  torch::Tensor k;  ///< [B, H, T, Dh]
  torch::Tensor v;  ///< [B, H, T, Dh]

  /// Both in `storage` (the same tensors when they already are).
  KeyValue to(torch::ScalarType storage) const { return {k.to(storage), v.to(storage)}; }
};

/// Keys and values of past positions for one decoder self-attention site.
class KeyValueCache {
 public:
  /// `storage`: the dtype the cache keeps: float32, or bfloat16 for decoding in bf16 or int8
  /// (appended keys and values are rounded to it; attention_kernel.h reads them so).
  explicit KeyValueCache(torch::ScalarType storage = torch::kFloat32) : storage_(storage) {}

  /// Appends `k_new`, `v_new` [B, H, n, Dh] (float32, or the storage dtype) and returns all
  /// cached keys/values [B, H, T, Dh] in the storage dtype
  /// (views into the cache; valid until the next append or reorder). Under autograd (GradMode
  /// enabled) it concatenates instead of writing in place, so gradients stay correct.
  KeyValue append(const torch::Tensor& k_new, const torch::Tensor& v_new);

  /// All cached keys and values [B, H, T, Dh] (undefined tensors while empty).
  KeyValue view() const;

  /// Number of cached positions T.
  int64_t length() const { return length_; }

  /// Keeps rows `index` (int64 [B'], repeats allowed) of the cache: beam search reorders
  /// hypotheses with it, and repeat_interleave(beam) indices expand a batch to its beams.
  void reorder(const torch::Tensor& index);

 private:
  torch::Tensor k_buffer_;  // [B, H, capacity, Dh]; positions >= length_ are unused
  torch::Tensor v_buffer_;  // [B, H, capacity, Dh]
  int64_t length_ = 0;
  torch::ScalarType storage_;
};

}  // namespace qkv
