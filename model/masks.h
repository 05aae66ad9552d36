// Attention masks: the ONLY place in qkv where masks are built.
//
// Convention (used by every function that takes a mask): a bool tensor, true = may attend.
// Masks broadcast against attention scores [B, H, Tq, Tk] and are combined with `&`:
//   encoder self-attention   make_padding_mask(src, pad)                        [B, 1, 1, S]
//   decoder self-attention   make_padding_mask(tgt, pad) & make_causal_mask(T)  [B, 1, T, T]
//   cross-attention          make_padding_mask(src, pad)                        [B, 1, 1, S]
// LibTorch's multi_head_attention_forward uses the opposite polarity for key_padding_mask
// (true = ignore); conversions to it live only in tests.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace qkv {

/// Keep mask over keys: true where `tokens` [B, T] (int64) is not `pad_id`.
/// Returns bool [B, 1, 1, T], on the device of `tokens`. Throws if tokens is not 2-D.
torch::Tensor make_padding_mask(const torch::Tensor& tokens, int64_t pad_id);

/// Causal keep mask: query position i may attend to key positions j <= i.
/// Returns bool [1, 1, size, size], lower-triangular including the diagonal.
/// Throws if size < 1.
torch::Tensor make_causal_mask(int64_t size, torch::Device device = torch::kCPU);

/// Decoder self-attention keep mask: make_padding_mask(tokens) & make_causal_mask(T).
/// tokens int64 [B, T]. Returns bool [B, 1, T, T].
torch::Tensor make_target_mask(const torch::Tensor& tokens, int64_t pad_id);

}  // namespace qkv
