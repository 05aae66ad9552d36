// Linear layers on AMX tiles (see amx_linear.h).
#include "model/kernels/amx_linear.h"

#include <ATen/Parallel.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "model/kernels/lane_masks.h"
#include "model/precision.h"

namespace qkv {

namespace {

#define QKV_AMX                                                               \
  __attribute__((                                                             \
      target("amx-tile,amx-bf16,amx-int8,avx512f,avx512vl,avx512bw,avx512dq," \
             "avx512bf16,fma")))

constexpr int64_t kTileRows = 16;   // rows of every tile
constexpr int64_t kTileBytes = 64;  // bytes of each tile row
constexpr int64_t kBlock = 32;      // a task's block of y: 32 x 32, two tiles each way
constexpr int64_t kTileSize = kTileRows * kTileBytes;
constexpr uint8_t kZeroInt8 = 128;  // x = 0 in int8's offset bytes
// Zero-masking forms with a full mask where GCC 12 warns (falsely, GCC bug 105593) about the
// undefined source operand of the unmasked intrinsics, as in vector_math.cpp.
constexpr __mmask16 kAll = 0xFFFF;

// K elements in one tile row: bf16 pairs or int8 quads.
int64_t k_per_tile(AmxFormat format) { return format == AmxFormat::kBf16 ? 32 : 64; }

int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// Linux hands out the 8 KiB AMX register state only to processes that ask (since 5.16).
bool tiles_granted() {
  static const bool granted = [] {
    constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return granted;
}

// The tile configuration every task loads: palette 1, all eight tiles 16 rows x 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
  TileConfig() {
    for (int t = 0; t < 8; ++t) {
      colsb[t] = kTileBytes;
      rows[t] = kTileRows;
    }
  }
};

// ---- x into tile rows -----------------------------------------------------------------------

// Rows [0, m) of x [m, k] rounded to bf16 into a [m_pad, k_pad] buffer, zeros around.
QKV_AMX void x_to_bf16(
    const float* x, int64_t m, int64_t k, uint16_t* a, int64_t m_pad, int64_t k_pad) {
  std::memset(a, 0, static_cast<size_t>(m_pad * k_pad) * sizeof(uint16_t));
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * k;
    uint16_t* out = a + i * k_pad;
    for (int64_t j = 0; j < k; j += 16) {
      const __mmask16 mask = lanes_left(k - j);
      const __m256bh bf = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, row + j));
      _mm256_mask_storeu_epi16(out + j, mask, reinterpret_cast<__m256i>(bf));
    }
  }
}

// Rows [0, m) of x quantized per row (max |x| -> 127) into offset bytes q + 128 in a
// [m_pad, k_pad] buffer (128 = zero around); scale[i] receives row i's max |x| / 127.
QKV_AMX void x_to_int8(
    const float* x, int64_t m, int64_t k, uint8_t* a, int64_t m_pad, int64_t k_pad, float* scale) {
  std::memset(a, kZeroInt8, static_cast<size_t>(m_pad * k_pad));
  const __m512i offset = _mm512_set1_epi32(kZeroInt8);
  const __m512i low = _mm512_set1_epi32(-127), high = _mm512_set1_epi32(127);
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * k;
    __m512 largest = _mm512_setzero_ps();
    for (int64_t j = 0; j < k; j += 16) {
      const __mmask16 mask = lanes_left(k - j);
      const __m512 value = _mm512_maskz_loadu_ps(mask, row + j);
      largest = _mm512_maskz_max_ps(kAll, largest, _mm512_maskz_max_ps(kAll, value, -value));
    }
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, largest);
    const float top = *std::max_element(lanes, lanes + 16);
    scale[i] = top > 0 ? top / 127.0F : 1.0F;
    const __m512 inverse = _mm512_set1_ps(top > 0 ? 127.0F / top : 0.0F);
    uint8_t* out = a + i * k_pad;
    for (int64_t j = 0; j < k; j += 16) {
      const __mmask16 mask = lanes_left(k - j);
      __m512i q = _mm512_maskz_cvtps_epi32(
          kAll, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + j), inverse));  // nearest
      q = _mm512_maskz_min_epi32(kAll, _mm512_maskz_max_epi32(kAll, q, low), high);
      q = _mm512_add_epi32(q, offset);
      _mm_mask_storeu_epi8(out + j, mask, _mm512_maskz_cvtusepi32_epi8(kAll, q));
    }
  }
}

// ---- the tiles ------------------------------------------------------------------------------

// c[32 x 32] (row stride 32) = rows [0, 32) of `a` times the two 16-column B tile stacks b0, b1,
// over k_tiles tiles of K. float32 accumulators for bf16, int32 for int8.
template <AmxFormat kFormat>
QKV_AMX void multiply_block(const uint8_t* a,
                            int64_t a_stride,
                            const uint8_t* b0,
                            const uint8_t* b1,
                            int64_t k_tiles,
                            void* c) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const uint8_t* a1 = a + kTileRows * a_stride;
  for (int64_t t = 0; t < k_tiles; ++t) {
    _tile_loadd(4, a + t * kTileBytes, a_stride);
    _tile_loadd(5, a1 + t * kTileBytes, a_stride);
    _tile_loadd(6, b0 + t * kTileSize, kTileBytes);
    _tile_loadd(7, b1 + t * kTileSize, kTileBytes);
    if constexpr (kFormat == AmxFormat::kBf16) {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    } else {
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    }
  }
  auto* out = static_cast<uint8_t*>(c);
  constexpr int64_t stride = kBlock * 4;  // bytes of one row of c
  _tile_stored(0, out, stride);
  _tile_stored(1, out + 64, stride);
  _tile_stored(2, out + kTileRows * stride, stride);
  _tile_stored(3, out + kTileRows * stride + 64, stride);
}

QKV_AMX void load_tile_config() {
  static const TileConfig config;
  _tile_loadconfig(&config);
}

QKV_AMX void release_tiles() { _tile_release(); }

// What one call needs to know, read-only in every task.
struct Problem {
  int64_t m, n, m_pad, k_tiles;
  const uint8_t* a;         // x in tile rows, [m_pad, k_tiles * 64 bytes]
  const uint8_t* packed;    // W tiles
  const float* bias;        // [n]
  const float* x_scale;     // int8: [m]
  const float* w_scale;     // int8: [n]
  const int32_t* w_offset;  // int8: [n]
  float* y;                 // [m, n]
};

// y[rows, cols] of one 32 x 32 block from its accumulators, with bias (and int8's scales).
template <AmxFormat kFormat>
QKV_AMX void write_block(const Problem& p, const void* c, int64_t m0, int64_t n0) {
  const int64_t rows = std::min(kBlock, p.m - m0), cols = std::min(kBlock, p.n - n0);
  for (int64_t i = 0; i < rows; ++i) {
    float* y = p.y + (m0 + i) * p.n + n0;
    if constexpr (kFormat == AmxFormat::kBf16) {
      const float* acc = static_cast<const float*>(c) + i * kBlock;
      for (int64_t j = 0; j < cols; ++j) y[j] = acc[j] + p.bias[n0 + j];
    } else {
      const int32_t* acc = static_cast<const int32_t*>(c) + i * kBlock;
      const float sx = p.x_scale[m0 + i];
      for (int64_t j = 0; j < cols; ++j) {
        const auto dot = static_cast<float>(acc[j] - p.w_offset[n0 + j]);
        y[j] = dot * sx * p.w_scale[n0 + j] + p.bias[n0 + j];
      }
    }
  }
}

// Column blocks [begin, end) of y, all rows: each B tile pair is read from memory once.
template <AmxFormat kFormat>
QKV_AMX void run_blocks(const Problem& p, int64_t begin, int64_t end) {
  const int64_t a_stride = p.k_tiles * kTileBytes;
  alignas(64) uint8_t c[kBlock * kBlock * 4];
  load_tile_config();
  const int64_t block_bytes = 2 * p.k_tiles * kTileSize;  // the two B tile stacks of a block
  for (int64_t block = begin; block < end; ++block) {
    const uint8_t* b0 = p.packed + block * block_bytes;
    const uint8_t* b1 = b0 + p.k_tiles * kTileSize;
    if (block + 1 < end) {
      // The weights come from L3 or memory: ask for the next block's into L2 while this one
      // computes (measured: decoding 5-10% faster; one block ahead beat two, L2 beat L1).
      for (int64_t line = 0; line < block_bytes; line += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(b0 + block_bytes + line), _MM_HINT_T1);
      }
    }
    for (int64_t m0 = 0; m0 < p.m_pad; m0 += kBlock) {
      multiply_block<kFormat>(p.a + m0 * a_stride, a_stride, b0, b1, p.k_tiles, c);
      write_block<kFormat>(p, c, m0, block * kBlock);
    }
  }
  release_tiles();
}

// ---- packing W once -------------------------------------------------------------------------

// W [n, k] (bf16 as uint16, or int8) into tiles: tile (nt, kt) holds columns nt*16.. of y and
// K elements kt*per_tile..; its row r holds, for each of the 16 columns, the `group` (2 or 4)
// consecutive K elements r*group.. (AMX's pair/quad layout).
template <class T>
void pack_tiles(const T* w, int64_t n, int64_t k, int64_t k_tiles, T* out) {
  constexpr int64_t group = 4 / sizeof(T);         // bf16 pairs, int8 quads
  constexpr int64_t per_tile = kTileRows * group;  // K elements in one tile
  for (int64_t row = 0; row < n; ++row) {
    const int64_t nt = row / kTileRows, column = row % kTileRows;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t kt = j / per_tile, within = j % per_tile;
      const int64_t r = within / group, g = within % group;
      out[((nt * k_tiles + kt) * kTileRows + r) * (kTileRows * group) + column * group + g] =
          w[row * k + j];
    }
  }
}

}  // namespace

bool amx_usable(AmxFormat format) {
  const CpuPrecisionSupport cpu = cpu_precision_support();
  const bool cpu_has = format == AmxFormat::kBf16
                           ? cpu.amx_bf16 && cpu.avx512_bf16
                           : cpu.amx_int8 && __builtin_cpu_supports("avx512bw");
  return cpu_has && tiles_granted();
}

AmxLinear::AmxLinear(const torch::Tensor& weight, const torch::Tensor& bias, AmxFormat format)
    : format_(format), n_(weight.size(0)), k_(weight.size(1)) {
  if (!amx_usable(format)) throw std::invalid_argument("AmxLinear: this CPU or OS has no AMX");
  torch::NoGradGuard no_grad;
  n_tiles_ = round_up(n_, kBlock) / kTileRows;
  k_tiles_ = round_up(k_, k_per_tile(format)) / k_per_tile(format);
  packed_ = torch::zeros({n_tiles_, k_tiles_, kTileRows, kTileBytes}, torch::kUInt8);
  const auto w = weight.detach().to(torch::kFloat32).contiguous();  // [N, K]
  bias_ = bias.defined() ? bias.detach().to(torch::kFloat32).contiguous() : torch::zeros({n_});
  if (format == AmxFormat::kBf16) {
    const auto w16 = w.to(torch::kBFloat16);  // rounded to nearest even
    pack_tiles(reinterpret_cast<const uint16_t*>(w16.data_ptr<at::BFloat16>()),
               n_,
               k_,
               k_tiles_,
               reinterpret_cast<uint16_t*>(packed_.data_ptr<uint8_t>()));
    return;
  }
  scale_ = w.abs().amax(/*dim=*/1).clamp_min(1e-12) / 127.0;                           // [N]
  const auto q = (w / scale_.unsqueeze(1)).round().clamp(-127, 127).to(torch::kInt8);  // [N, K]
  offset_ = (q.to(torch::kInt32).sum(/*dim=*/1) * kZeroInt8).to(torch::kInt32).contiguous();
  pack_tiles(q.data_ptr<int8_t>(),
             n_,
             k_,
             k_tiles_,
             reinterpret_cast<int8_t*>(packed_.data_ptr<uint8_t>()));
}

torch::Tensor AmxLinear::operator()(const torch::Tensor& x) const {
  TORCH_CHECK(x.size(-1) == k_, "AmxLinear: input width ", x.size(-1), ", expected ", k_);
  const auto rows = x.reshape({-1, k_}).to(torch::kFloat32).contiguous();  // [M, K]
  const int64_t m = rows.size(0), m_pad = round_up(std::max<int64_t>(m, 1), kBlock);
  const int64_t k_pad = k_tiles_ * k_per_tile(format_);
  auto sizes = x.sizes().vec();
  sizes.back() = n_;
  auto y = torch::empty({m, n_});
  thread_local std::vector<uint8_t> a;  // x in tile rows, reused between calls
  thread_local std::vector<float> x_scale;
  a.resize(static_cast<size_t>(m_pad * k_tiles_ * kTileBytes));
  Problem p{m,
            n_,
            m_pad,
            k_tiles_,
            a.data(),
            packed_.data_ptr<uint8_t>(),
            bias_.data_ptr<float>(),
            nullptr,
            nullptr,
            nullptr,
            y.data_ptr<float>()};
  if (format_ == AmxFormat::kBf16) {
    x_to_bf16(rows.data_ptr<float>(), m, k_, reinterpret_cast<uint16_t*>(a.data()), m_pad, k_pad);
  } else {
    x_scale.resize(static_cast<size_t>(m));
    x_to_int8(rows.data_ptr<float>(), m, k_, a.data(), m_pad, k_pad, x_scale.data());
    p.x_scale = x_scale.data();
    p.w_scale = scale_.data_ptr<float>();
    p.w_offset = offset_.data_ptr<int32_t>();
  }
  // About 256k multiply-adds per task at least: small products stay on one thread.
  const int64_t blocks = n_tiles_ / 2;
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / (m_pad * kBlock * k_pad));
  at::parallel_for(0, blocks, grain, [&](int64_t begin, int64_t end) {
    format_ == AmxFormat::kBf16 ? run_blocks<AmxFormat::kBf16>(p, begin, end)
                                : run_blocks<AmxFormat::kInt8>(p, begin, end);
  });
  return y.view(sizes);
}

}  // namespace qkv
