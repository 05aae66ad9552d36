// Plain loops over float arrays for the hot spots that Debian's LibTorch 1.13 runs slowly on
// CPU: exp over rows (its exp kernel is not vectorised, ~10x slower than a sum) and random keep
// masks for dropout (its bernoulli_ draws one double per element from mt19937, ~8 ns each).
// Each function picks an AVX-512 version at run time when the CPU has AVX-512 (has_avx512() in
// dispatch.h), else portable C++. No tensors here: callers (attention_kernel.cpp,
// fused_dropout.cpp, fused_loss.cpp, search.cpp) own shapes.
#pragma once

#include <cstdint>

namespace qkv::vecmath {

/// Largest of x[0..n); -inf for n == 0. NaN inputs may be skipped.
float max_of(const float* x, int64_t n);

/// Sum of x[0..n) (float lanes, summed in double at the end).
double sum_of(const float* x, int64_t n);

/// y[i] = exp(x[i] - shift) for i < n (x and y may be the same array); returns sum y[i].
/// Relative error below 3e-7; exp(-inf) is exactly 0; shift = -inf (a row with nothing
/// kept) gives NaN or 0 entries and a sum of NaN or 0, so that dividing by it yields NaN.
double exp_shifted(const float* x, float shift, float* y, int64_t n);

/// y = log_softmax(x) over x[0..n) (x and y may be the same array).
void log_softmax(const float* x, float* y, int64_t n);

/// The k largest of x[0..n) (k <= n), largest first, into values[0..k) and their positions
/// into indices[0..k); among equal values the earlier position wins. NaNs and -inf are never
/// chosen: slots left over keep value -inf and index 0.
void top_k(const float* x, int64_t n, int64_t k, float* values, int64_t* indices);

/// y[i] = y[i] * a + b for i < n.
void scale_shift(float* y, int64_t n, float a, float b);

/// Counter-based keep decisions for dropout: keep(i) is true with probability 1 - p,
/// independently for every element index i, and is the same every time it is asked (so a
/// backward pass regenerates the forward mask instead of storing it).
struct KeepMask {
  uint32_t key0 = 0;       ///< from the seed (low 32 bits)
  uint32_t key1 = 0;       ///< from the seed (high 32 bits)
  uint32_t threshold = 0;  ///< drop when the 32-bit hash is below p * 2^32
  float scale = 1.0F;      ///< 1 / (1 - p), applied to kept elements

  /// p in [0, 1), seed from the caller's random generator.
  static KeepMask make(double p, uint64_t seed);
};

/// y[i] = keep(offset + i) ? x[i] * scale : 0.
void dropout(const float* x, float* y, int64_t n, const KeepMask& mask, uint64_t offset);

/// y[i] = a[i] + (keep(offset + i) ? b[i] * scale : 0).
void add_dropout(
    const float* a, const float* b, float* y, int64_t n, const KeepMask& mask, uint64_t offset);

/// y[i] = keep(offset + i) && x[i] > 0 ? x[i] * scale : 0 (dropout of relu(x)).
void relu_dropout(const float* x, float* y, int64_t n, const KeepMask& mask, uint64_t offset);

/// grad_in[i] = out[i] != 0 ? grad_out[i] * scale : 0 (backward of relu_dropout from its output).
void relu_dropout_backward(
    const float* grad_out, const float* out, float* grad_in, int64_t n, float scale);

}  // namespace qkv::vecmath
