// The attention core of MultiHeadAttention as one CPU kernel with its own backward:
//   out[b, :, h] = dropout(softmax(q[b,h] k[b,h]^T / sqrt(Dh), masked)) v[b,h]
// one (sentence, head) pair at a time, with direct BLAS sgemm calls on strided views. LibTorch's
// batched matmul loops over B*H small matrices with a few tensor ops of overhead each; this
// kernel does the same arithmetic without it, reads q/k/v straight out of the projection GEMM's
// output (no split-heads copies) and writes the heads merged (no merge-heads copy).
//
// attention_weights() and MultiHeadAttention's attend() in attention.cpp stay the reference
// definition (and the tests compare the two). The kernel serves float32 CPU tensors when
// LibTorch's BLAS (sgemm_) is reachable; MultiHeadAttention calls it when fused_enabled()
// (dispatch.h) and attention_kernel_supports() say so, and uses the reference maths otherwise.
//
// Keys and values may also be bfloat16 (the decoding caches of --precision bf16 and int8,
// kv_cache.h), for inference only: then each (sentence, head) pair runs float32 dot products
// and weighted sums over the bf16 rows (bf16_rows.h) instead of sgemm_, reading half the bytes.
#pragma once

#include <torch/torch.h>

namespace qkv {

/// True when attention_kernel() can run q, k, v: CPU tensors, q float32, k and v float32
/// (sgemm_ available) or both bfloat16.
bool attention_kernel_supports(const torch::Tensor& q,
                               const torch::Tensor& k,
                               const torch::Tensor& v);

/// q [B, H, Tq, Dh], k and v [B, H, Tk, Dh] (any strides), keep_mask bool broadcastable to
/// [B, H, Tq, Tk] (true = may attend) or undefined, dropout on the weights when training.
/// Returns the head outputs merged, [B, Tq, H * Dh] (contiguous); differentiable in q, k, v.
/// When `weights` is not null it receives the attention weights before dropout
/// [B, H, Tq, Tk] (not differentiable). A row with no key kept is NaN, as in
/// attention_weights(). With bfloat16 k and v: no dropout and no gradient (checked).
torch::Tensor attention_kernel(const torch::Tensor& q,
                               const torch::Tensor& k,
                               const torch::Tensor& v,
                               const torch::Tensor& keep_mask,
                               double dropout,
                               bool training,
                               torch::Tensor* weights = nullptr);

}  // namespace qkv
