// Rows of bfloat16 (the top 16 bits of a float32, stored as uint16_t) for the decoding caches:
// with --precision bf16 or int8 the attention keys and values are kept in bf16, which halves
// the bytes that every decoding step reads from them (model/kv_cache.h, attention_kernel.h).
// Arithmetic stays float32: a bf16 value widens to float32 exactly (a 16-bit shift).
// Each function picks an AVX-512 version at run time (has_avx512() in dispatch.h), else
// portable C++; no AVX512-BF16 instructions are needed.
#pragma once

#include <cstdint>

namespace qkv::bf16 {

/// y[i] = x[i] rounded to the nearest bfloat16 (ties to even; NaN stays NaN), as LibTorch's
/// x.to(torch::kBFloat16) rounds.
void from_float(const float* x, uint16_t* y, int64_t n);

/// out[j] = sum_i x[i] * rows[j * ld + i] for j < count, i < n: the dot products of x with
/// `count` bfloat16 rows (ld elements apart), accumulated in float32. (Attention scores.)
void dot_rows(
    const float* x, const uint16_t* rows, int64_t ld, int64_t count, int64_t n, float* out);

/// y[i] += sum_j weights[j] * rows[j * ld + i] for i < n, j < count, skipping rows of weight 0;
/// rows in bfloat16, y and the sums in float32. (An attention output from its weights.)
void add_weighted_rows(
    const float* weights, const uint16_t* rows, int64_t ld, int64_t count, int64_t n, float* y);

/// Asks for `count` bfloat16 rows of n elements (ld apart) to be brought into L2 ahead of use:
/// the decoding caches are read from L3 or memory, and the next (sentence, head) pair's rows
/// can arrive while this one computes.
void prefetch_rows(const uint16_t* rows, int64_t ld, int64_t count, int64_t n);

}  // namespace qkv::bf16
