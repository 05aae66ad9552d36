// Linear layers for decoding on Intel AMX (Advanced Matrix Extensions): eight tile registers of
// 16 rows x 64 bytes, and one instruction that multiplies two tiles into a third (bf16 pairs
// into float32, or 8-bit quads into int32):
//
//   y[M, N] = x[M, K] W[N, K]^T + b[N]      x, y float32; W packed once into tiles
//
// Why not LibTorch's own bf16 and int8 linear: both go through oneDNN with a fixed cost per call
// (memory descriptors, primitive lookup, the bias copy, casting x and y). LibTorch 1.13's bf16
// linear took 28-62 us for 64 x 256 -> 256..1024 (timed from Python, one thread), and its
// dynamic int8 linear made decoding slower than fp32 altogether (README, Low precision). Here a
// call converts x into tile rows, runs the tiles and writes y with the bias (and int8's scales) in
// one pass.
//
//   bf16  W rounded to bfloat16 once; x rounded per call; float32 accumulation.
//   int8  W quantized once, symmetric, one scale per output row (max |w| -> 127); x quantized
//         per call and per row (max |x| -> 127) and stored as x + 128 in unsigned bytes (AMX
//         multiplies unsigned by signed bytes); the 128 * sum_k w[n, k] this adds is taken off
//         again in int32 before scaling: y = (acc - 128 sum_k w) * scale_x[m] * scale_w[n] + b.
//
// Tiles: A = 16 rows of x (32 bf16 or 64 bytes of K each), B = 16 K-pairs (quads) x 16 output
// columns, C = 16 x 16 accumulators; each task computes a 32 x 32 block of y from two A and two
// B tiles into four C tiles. M, N and K are padded to whole tiles with zeros.
//
// PackedLinear (model/linear.h) uses this for --precision bf16 and int8 when amx_usable() says
// the CPU and the OS allow it and fused_enabled() (dispatch.h); LibTorch's path otherwise.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace qkv {

enum class AmxFormat { kBf16, kInt8 };

/// True when the CPU has AMX tiles with `format`'s multiply (AMX-BF16 or AMX-INT8, and
/// AVX512-BF16 for converting x), the OS has granted this process the tile state (asked once,
/// arch_prctl), and native bf16 is not switched off (QKV_CPU_BF16=0, model/precision.h).
bool amx_usable(AmxFormat format);

class AmxLinear {
 public:
  /// weight [N, K] and bias [N] (or undefined) float32 on the CPU, copied into tiles.
  /// Throws std::invalid_argument when !amx_usable(format).
  AmxLinear(const torch::Tensor& weight, const torch::Tensor& bias, AmxFormat format);

  /// x [..., K] float32 -> [..., N] float32.
  torch::Tensor operator()(const torch::Tensor& x) const;

  AmxFormat format() const { return format_; }

 private:
  AmxFormat format_;
  int64_t n_, k_;         // the real sizes
  int64_t n_tiles_;       // N / 16, rounded up to an even count (32-column blocks)
  int64_t k_tiles_;       // K / (32 bf16 or 64 bytes), rounded up
  torch::Tensor packed_;  // [n_tiles, k_tiles, 16 rows, 64 bytes] (uint8 storage)
  torch::Tensor bias_;    // [N] float32 (zeros without bias)
  torch::Tensor scale_;   // int8: [N] float32, each weight row's scale
  torch::Tensor offset_;  // int8: [N] int32, 128 * sum_k w[n, k]
};

}  // namespace qkv
