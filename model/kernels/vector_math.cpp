// Vectorised float loops (see vector_math.h). Every function has a portable version and an
// AVX-512 one; has_avx512() (dispatch.h) picks. The AVX-512 exp is the Cephes expf polynomial
// (Cody-Waite range reduction, degree-6 polynomial, scaling by 2^n with vscalefps).
// The dropout loops are plain C++ that GCC vectorises inside the AVX-512 target functions.
#include "model/kernels/vector_math.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/kernels/dispatch.h"
#include "model/kernels/lane_masks.h"

namespace qkv::vecmath {

namespace {

#define QKV_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

// ---- exp, max, sum -------------------------------------------------------------------------

// Full-mask forms of max/min/roundscale/scalef and reductions through memory: GCC 12 warns
// (falsely, GCC bug 105593) about the undefined source operand of the unmasked intrinsics.
constexpr __mmask16 kAll = 0xFFFF;

QKV_AVX512 inline float horizontal_max(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float best = lanes[0];
  for (int i = 1; i < 16; ++i) best = std::max(best, lanes[i]);
  return best;
}

QKV_AVX512 inline double horizontal_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  double total = 0;
  for (float lane : lanes) total += lane;
  return total;
}

QKV_AVX512 inline __m512 exp16(__m512 x) {
  // exp(x) = 2^n exp(r), n = round(x log2 e), r = x - n ln 2 (ln 2 split in two for accuracy).
  const __m512 valid = _mm512_set1_ps(-104.0F);  // below: exp < smallest denormal, gives 0
  const __mmask16 keep = _mm512_cmp_ps_mask(x, valid, _CMP_GE_OQ);  // false for NaN and -inf
  x = _mm512_mask_min_ps(x, kAll, x, _mm512_set1_ps(88.8F));        // above: inf after scaling
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341F));
  const __m512 n =
      _mm512_mask_roundscale_ps(t, kAll, t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375F), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4F), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4F);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3F));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3F));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2F));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1F));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1F));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0F));
  return _mm512_maskz_scalef_ps(keep, y, n);
}

QKV_AVX512 float max_of_avx512(const float* x, int64_t n) {
  const __m512 lowest = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 best = lowest;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) best = _mm512_mask_max_ps(best, kAll, best, _mm512_loadu_ps(x + i));
  if (i < n) {
    best = _mm512_mask_max_ps(
        best, kAll, best, _mm512_mask_loadu_ps(lowest, lanes_left(n - i), x + i));
  }
  return horizontal_max(best);
}

QKV_AVX512 double sum_of_avx512(const float* x, int64_t n) {
  __m512 total = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) total = _mm512_add_ps(total, _mm512_loadu_ps(x + i));
  if (i < n) total = _mm512_add_ps(total, _mm512_maskz_loadu_ps(lanes_left(n - i), x + i));
  return horizontal_sum(total);
}

QKV_AVX512 double exp_shifted_avx512(const float* x, float shift, float* y, int64_t n) {
  const __m512 offset = _mm512_set1_ps(shift);
  __m512 total = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), offset));
    _mm512_storeu_ps(y + i, e);
    total = _mm512_add_ps(total, e);
  }
  if (i < n) {
    const __mmask16 m = lanes_left(n - i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), offset));
    _mm512_mask_storeu_ps(y + i, m, e);
    total = _mm512_add_ps(total, _mm512_maskz_mov_ps(m, e));
  }
  return horizontal_sum(total);
}

QKV_AVX512 void scale_shift_avx512(float* y, int64_t n, float a, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] * a + b;
}

void scale_shift_portable(float* y, int64_t n, float a, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] * a + b;
}

// ---- top-k ----------------------------------------------------------------------------------

// Inserts (value, index) into the descending lists of length k if it beats the last entry.
inline void offer(float value, int64_t index, int64_t k, float* values, int64_t* indices) {
  if (!(value > values[k - 1])) return;
  int64_t slot = k - 1;
  while (slot > 0 && value > values[slot - 1]) {
    values[slot] = values[slot - 1];
    indices[slot] = indices[slot - 1];
    --slot;
  }
  values[slot] = value;
  indices[slot] = index;
}

// Sixteen values at a time are compared with the current k-th best; only the few that beat
// it (after the first blocks, rarely any) go through the scalar insertion.
QKV_AVX512 void top_k_avx512(
    const float* x, int64_t n, int64_t k, float* values, int64_t* indices) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 in_range = lanes_left(n - i);
    const __m512 block = _mm512_maskz_loadu_ps(in_range, x + i);
    __mmask16 better =
        _mm512_mask_cmp_ps_mask(in_range, block, _mm512_set1_ps(values[k - 1]), _CMP_GT_OQ);
    while (better != 0) {
      const int lane = __builtin_ctz(better);
      better &= static_cast<__mmask16>(better - 1);
      offer(x[i + lane], i + lane, k, values, indices);
    }
  }
}

void top_k_portable(const float* x, int64_t n, int64_t k, float* values, int64_t* indices) {
  for (int64_t i = 0; i < n; ++i) offer(x[i], i, k, values, indices);
}

// ---- dropout -------------------------------------------------------------------------------

// MurmurHash3's 32-bit finaliser: a bijection that mixes every input bit into every output bit.
inline uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6BU;
  h ^= h >> 13;
  h *= 0xC2B2AE35U;
  h ^= h >> 16;
  return h;
}

// Two keyed rounds over the element index: distinct indices get distinct hashes within a call.
inline uint32_t hash(uint32_t index, uint32_t key0, uint32_t key1) {
  return mix32(mix32(index * 0x9E3779B1U ^ key0) ^ key1);
}

// Calls body(i, keep) for i in [0, n) with keep = mask.keep(offset + i), in runs whose upper
// 32 index bits are constant so that the inner loop works on 32-bit lanes (and vectorises).
template <class Body>
inline __attribute__((always_inline)) void for_each_keep(int64_t n,
                                                         const KeepMask& mask,
                                                         uint64_t offset,
                                                         Body&& body) {
  int64_t done = 0;
  while (done < n) {
    const uint64_t start = offset + static_cast<uint64_t>(done);
    const auto low = static_cast<uint32_t>(start);
    const int64_t run =
        std::min<int64_t>(n - done, static_cast<int64_t>((uint64_t{1} << 32) - low));
    const uint32_t key1 = mask.key1 ^ (static_cast<uint32_t>(start >> 32) * 0x27D4EB2FU);
    const uint32_t key0 = mask.key0;
    const uint32_t threshold = mask.threshold;
    for (int64_t j = 0; j < run; ++j) {
      body(done + j, hash(low + static_cast<uint32_t>(j), key0, key1) >= threshold);
    }
    done += run;
  }
}

template <int kVariant>  // instantiated once per target, see the wrappers below
inline __attribute__((always_inline)) void dropout_impl(
    const float* x, float* y, int64_t n, const KeepMask& mask, uint64_t offset) {
  const float scale = mask.scale;
  for_each_keep(n, mask, offset, [&](int64_t i, bool keep) { y[i] = keep ? x[i] * scale : 0.0F; });
}

template <int kVariant>
inline __attribute__((always_inline)) void add_dropout_impl(
    const float* a, const float* b, float* y, int64_t n, const KeepMask& mask, uint64_t offset) {
  const float scale = mask.scale;
  for_each_keep(
      n, mask, offset, [&](int64_t i, bool keep) { y[i] = a[i] + (keep ? b[i] * scale : 0.0F); });
}

template <int kVariant>
inline __attribute__((always_inline)) void relu_dropout_impl(
    const float* x, float* y, int64_t n, const KeepMask& mask, uint64_t offset) {
  const float scale = mask.scale;
  for_each_keep(n, mask, offset, [&](int64_t i, bool keep) {
    y[i] = keep && x[i] > 0.0F ? x[i] * scale : 0.0F;
  });
}

template <int kVariant>
inline __attribute__((always_inline)) void relu_dropout_backward_impl(
    const float* grad_out, const float* out, float* grad_in, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i) grad_in[i] = out[i] != 0.0F ? grad_out[i] * scale : 0.0F;
}

QKV_AVX512 void dropout_avx512(
    const float* x, float* y, int64_t n, const KeepMask& m, uint64_t offset) {
  dropout_impl<1>(x, y, n, m, offset);
}
void dropout_portable(const float* x, float* y, int64_t n, const KeepMask& m, uint64_t offset) {
  dropout_impl<0>(x, y, n, m, offset);
}
QKV_AVX512 void add_dropout_avx512(
    const float* a, const float* b, float* y, int64_t n, const KeepMask& m, uint64_t offset) {
  add_dropout_impl<1>(a, b, y, n, m, offset);
}
void add_dropout_portable(
    const float* a, const float* b, float* y, int64_t n, const KeepMask& m, uint64_t offset) {
  add_dropout_impl<0>(a, b, y, n, m, offset);
}
QKV_AVX512 void relu_dropout_avx512(
    const float* x, float* y, int64_t n, const KeepMask& m, uint64_t offset) {
  relu_dropout_impl<1>(x, y, n, m, offset);
}
void relu_dropout_portable(
    const float* x, float* y, int64_t n, const KeepMask& m, uint64_t offset) {
  relu_dropout_impl<0>(x, y, n, m, offset);
}
QKV_AVX512 void relu_dropout_backward_avx512(
    const float* g, const float* out, float* grad_in, int64_t n, float scale) {
  relu_dropout_backward_impl<1>(g, out, grad_in, n, scale);
}
void relu_dropout_backward_portable(
    const float* g, const float* out, float* grad_in, int64_t n, float scale) {
  relu_dropout_backward_impl<0>(g, out, grad_in, n, scale);
}

}  // namespace

float max_of(const float* x, int64_t n) {
  if (has_avx512()) return max_of_avx512(x, n);
  float best = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) best = std::max(best, x[i]);
  return best;
}

double sum_of(const float* x, int64_t n) {
  if (has_avx512()) return sum_of_avx512(x, n);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += x[i];
  return total;
}

double exp_shifted(const float* x, float shift, float* y, int64_t n) {
  if (has_avx512()) return exp_shifted_avx512(x, shift, y, n);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    total += y[i];
  }
  return total;
}

void top_k(const float* x, int64_t n, int64_t k, float* values, int64_t* indices) {
  std::fill(values, values + k, -std::numeric_limits<float>::infinity());
  std::fill(indices, indices + k, int64_t{0});
  if (k <= 0) return;
  has_avx512() ? top_k_avx512(x, n, k, values, indices) : top_k_portable(x, n, k, values, indices);
}

void scale_shift(float* y, int64_t n, float a, float b) {
  has_avx512() ? scale_shift_avx512(y, n, a, b) : scale_shift_portable(y, n, a, b);
}

void log_softmax(const float* x, float* y, int64_t n) {
  const float top = max_of(x, n);
  // exp_shifted needs somewhere to write: y, overwritten below (x may be y: read it first).
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(n));
  const double lse = top + std::log(exp_shifted(x, top, scratch.data(), n));
  if (y != x) std::copy(x, x + n, y);
  scale_shift(y, n, 1.0F, static_cast<float>(-lse));
}

KeepMask KeepMask::make(double p, uint64_t seed) {
  KeepMask mask;
  mask.key0 = static_cast<uint32_t>(seed);
  mask.key1 = static_cast<uint32_t>(seed >> 32);
  // P(hash < threshold) = threshold / 2^32 = p, to within 2^-32.
  mask.threshold = static_cast<uint32_t>(std::min(std::llround(p * 4294967296.0), 4294967295LL));
  mask.scale = static_cast<float>(1.0 / (1.0 - p));
  return mask;
}

void dropout(const float* x, float* y, int64_t n, const KeepMask& mask, uint64_t offset) {
  has_avx512() ? dropout_avx512(x, y, n, mask, offset) : dropout_portable(x, y, n, mask, offset);
}

void add_dropout(
    const float* a, const float* b, float* y, int64_t n, const KeepMask& mask, uint64_t offset) {
  has_avx512() ? add_dropout_avx512(a, b, y, n, mask, offset)
               : add_dropout_portable(a, b, y, n, mask, offset);
}

void relu_dropout(const float* x, float* y, int64_t n, const KeepMask& mask, uint64_t offset) {
  has_avx512() ? relu_dropout_avx512(x, y, n, mask, offset)
               : relu_dropout_portable(x, y, n, mask, offset);
}

void relu_dropout_backward(
    const float* grad_out, const float* out, float* grad_in, int64_t n, float scale) {
  has_avx512() ? relu_dropout_backward_avx512(grad_out, out, grad_in, n, scale)
               : relu_dropout_backward_portable(grad_out, out, grad_in, n, scale);
}

}  // namespace qkv::vecmath
