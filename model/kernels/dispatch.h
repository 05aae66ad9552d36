// The one switch between the readable path and the fused CPU kernels, and the two things every
// kernel shares: the CPU feature check and the seed of its random numbers.
//
// Every module in model/ (and the loss in train/) computes its reference maths with LibTorch
// ops and, when fused_enabled() and the kernel supports the tensors, calls the kernel in one
// line instead. QKV_NO_FUSED=1 in the environment turns every kernel off (to compare speed,
// or to rule a kernel out when a result looks wrong); tests switch in-process with
// ScopedFusedKernels. Not here: the kernels themselves (attention_kernel.h, fused_dropout.h,
// fused_loss.h, vector_math.h).
#pragma once

#include <cstdint>

namespace qkv {

/// False when the environment variable QKV_NO_FUSED is set (read once per process, at the
/// first call: the only place that reads it) or a ScopedFusedKernels says so; true otherwise.
bool fused_enabled();

/// True when the CPU has the AVX-512 subsets the kernels and LibTorch's own AVX-512 code use
/// (F, VL, BW, DQ). Checked once per process.
bool has_avx512();

/// A fresh 64-bit seed from LibTorch's default CPU generator (the one torch::manual_seed
/// sets), so that fused dropout is repeatable under a manual seed. Advances the generator by
/// one random64() draw.
uint64_t draw_seed();

/// RAII override of fused_enabled() for tests, process-wide, restored in the destructor:
///   { ScopedFusedKernels off(false); module->forward(...); }  // the reference path
/// Overrides nest. Not for use while another thread runs model code.
class ScopedFusedKernels {
 public:
  explicit ScopedFusedKernels(bool enabled);
  ~ScopedFusedKernels();
  ScopedFusedKernels(const ScopedFusedKernels&) = delete;
  ScopedFusedKernels& operator=(const ScopedFusedKernels&) = delete;

 private:
  int previous_;  // the override in force before this one (-1: none)
};

}  // namespace qkv
