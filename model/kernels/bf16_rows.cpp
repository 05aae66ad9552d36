// bfloat16 rows (see bf16_rows.h).
#include "model/kernels/bf16_rows.h"

#include <c10/util/BFloat16.h>
#include <immintrin.h>

#include <algorithm>

#include "model/kernels/dispatch.h"
#include "model/kernels/lane_masks.h"

namespace qkv::bf16 {

namespace {

#define QKV_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

// Zero-masking forms with a full mask where GCC 12 warns (falsely, GCC bug 105593) about the
// undefined source operand of the unmasked intrinsics, as in vector_math.cpp.
constexpr __mmask16 kAll = 0xFFFF;

// ---- portable -------------------------------------------------------------------------------

// c10::BFloat16 is LibTorch's own conversion: the same rounding as tensor.to(torch::kBFloat16).
float widen(uint16_t value) { return c10::BFloat16(value, c10::BFloat16::from_bits()); }

void from_float_portable(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = c10::BFloat16(x[i]).x;
}

void dot_rows_portable(
    const float* x, const uint16_t* rows, int64_t ld, int64_t count, int64_t n, float* out) {
  for (int64_t j = 0; j < count; ++j) {
    float total = 0;
    for (int64_t i = 0; i < n; ++i) total += x[i] * widen(rows[j * ld + i]);
    out[j] = total;
  }
}

void add_weighted_rows_portable(
    const float* weights, const uint16_t* rows, int64_t ld, int64_t count, int64_t n, float* y) {
  for (int64_t j = 0; j < count; ++j) {
    if (weights[j] == 0.0F) continue;
    for (int64_t i = 0; i < n; ++i) y[i] += weights[j] * widen(rows[j * ld + i]);
  }
}

// ---- AVX-512 --------------------------------------------------------------------------------

// 16 bfloat16 values (masked lanes read as 0) widened to float32.
QKV_AVX512 inline __m512 load_widened(const uint16_t* x, __mmask16 mask) {
  const __m256i half = _mm256_maskz_loadu_epi16(mask, x);
  return _mm512_castsi512_ps(
      _mm512_maskz_slli_epi32(kAll, _mm512_maskz_cvtepu16_epi32(kAll, half), 16));
}

QKV_AVX512 void from_float_avx512(const float* x, uint16_t* y, int64_t n) {
  const __m512i one = _mm512_set1_epi32(1), half_ulp = _mm512_set1_epi32(0x7FFF);
  const __m512i quiet = _mm512_set1_epi32(0x40);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = lanes_left(n - i);
    const __m512 value = _mm512_maskz_loadu_ps(mask, x + i);
    const __m512i bits = _mm512_castps_si512(value);
    const __m512i high = _mm512_maskz_srli_epi32(kAll, bits, 16);
    const __m512i lsb = _mm512_and_si512(high, one);
    __m512i rounded =
        _mm512_maskz_srli_epi32(kAll, _mm512_add_epi32(bits, _mm512_add_epi32(lsb, half_ulp)), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q);
    rounded = _mm512_mask_or_epi32(rounded, nan, high, quiet);
    _mm512_mask_cvtepi32_storeu_epi16(y + i, mask, rounded);
  }
}

// r[j] = sum of the 16 lanes of v[j], j < 16: a transposing tree of adds (45 instructions for
// 16 sums instead of 16 reductions through memory).
QKV_AVX512 __m512 lane_sums(__m512 v[16]) {
  __m512 pairs[8], quads[4], octets[2];
  for (int j = 0; j < 8; ++j) {  // lanes of each 128-bit quarter: a0+a2, b0+b2, a1+a3, b1+b3
    const __m512 a = v[2 * j], b = v[2 * j + 1];
    pairs[j] =
        _mm512_add_ps(_mm512_maskz_unpacklo_ps(kAll, a, b), _mm512_maskz_unpackhi_ps(kAll, a, b));
  }
  for (int j = 0; j < 4; ++j) {  // each quarter: the four keys' sums over that quarter
    const __m512d a = _mm512_castps_pd(pairs[2 * j]), b = _mm512_castps_pd(pairs[2 * j + 1]);
    quads[j] = _mm512_add_ps(_mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, a, b)),
                             _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, a, b)));
  }
  for (int j = 0; j < 2; ++j) {  // quarters pairwise: keys 0-3 (two halves), keys 4-7 (two)
    const __m512 a = quads[2 * j], b = quads[2 * j + 1];
    octets[j] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAll, a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                              _mm512_maskz_shuffle_f32x4(kAll, a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  const __m512 a = octets[0], b = octets[1];
  return _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAll, a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_maskz_shuffle_f32x4(kAll, a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}

QKV_AVX512 void dot_rows_avx512(
    const float* x, const uint16_t* rows, int64_t ld, int64_t count, int64_t n, float* out) {
  for (int64_t j0 = 0; j0 < count; j0 += 16) {
    // Always 16 rows, so that the accumulators stay in registers: past the end the last row
    // is read again (from L1) and its sums are not stored.
    const int64_t block = std::min<int64_t>(16, count - j0);
    const uint16_t* row[16];
    __m512 partial[16];
#pragma GCC unroll 16
    for (int64_t j = 0; j < 16; ++j) {
      row[j] = rows + (j0 + std::min(j, block - 1)) * ld;
      partial[j] = _mm512_setzero_ps();
    }
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 mask = lanes_left(n - i);
      const __m512 chunk = _mm512_maskz_loadu_ps(mask, x + i);
#pragma GCC unroll 16
      for (int64_t j = 0; j < 16; ++j) {
        partial[j] = _mm512_fmadd_ps(chunk, load_widened(row[j] + i, mask), partial[j]);
      }
    }
    _mm512_mask_storeu_ps(out + j0, lanes_left(block), lane_sums(partial));
  }
}

QKV_AVX512 void add_weighted_rows_avx512(
    const float* weights, const uint16_t* rows, int64_t ld, int64_t count, int64_t n, float* y) {
  for (int64_t i = 0; i < n; i += 64) {  // 64 outputs in four registers, over all rows
    __mmask16 mask[4];
    __m512 sum[4];
    for (int c = 0; c < 4; ++c) {
      mask[c] = i + 16 * c < n ? lanes_left(n - i - 16 * c) : 0;
      sum[c] = _mm512_maskz_loadu_ps(mask[c], y + i + 16 * c);
    }
    for (int64_t j = 0; j < count; ++j) {
      if (weights[j] == 0.0F) continue;
      const __m512 weight = _mm512_set1_ps(weights[j]);
      const uint16_t* row = rows + j * ld + i;
      for (int c = 0; c < 4; ++c) {
        sum[c] = _mm512_fmadd_ps(weight, load_widened(row + 16 * c, mask[c]), sum[c]);
      }
    }
    for (int c = 0; c < 4; ++c) _mm512_mask_storeu_ps(y + i + 16 * c, mask[c], sum[c]);
  }
}

}  // namespace

void from_float(const float* x, uint16_t* y, int64_t n) {
  has_avx512() ? from_float_avx512(x, y, n) : from_float_portable(x, y, n);
}

void dot_rows(
    const float* x, const uint16_t* rows, int64_t ld, int64_t count, int64_t n, float* out) {
  has_avx512() ? dot_rows_avx512(x, rows, ld, count, n, out)
               : dot_rows_portable(x, rows, ld, count, n, out);
}

void add_weighted_rows(
    const float* weights, const uint16_t* rows, int64_t ld, int64_t count, int64_t n, float* y) {
  has_avx512() ? add_weighted_rows_avx512(weights, rows, ld, count, n, y)
               : add_weighted_rows_portable(weights, rows, ld, count, n, y);
}

void prefetch_rows(const uint16_t* rows, int64_t ld, int64_t count, int64_t n) {
  constexpr int64_t kLine = 64 / sizeof(uint16_t);  // elements per cache line
  for (int64_t j = 0; j < count; ++j) {
    for (int64_t i = 0; i < n; i += kLine) __builtin_prefetch(rows + j * ld + i, 0, 2);
  }
}

}  // namespace qkv::bf16
