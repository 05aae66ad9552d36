// The large matrix products in the precision in force (see precision.h): every projection,
// feed-forward layer and the output layer goes through dense() or a Linear module here, so
// that fp32, bf16 and int8 differ in this one file pair and nowhere else.
//
//   dense(x, W, b)      y = x W^T + b. fp32 unless a ScopedGemmPrecision(kBf16) is in force on
//                       this thread: then x, W and b are cast to bf16 for the GEMM and y back
//                       to float32. Autograd runs through the casts, so gradients reach the
//                       float32 master weights (training in bf16 on a CPU).
//   PackedLinear        W and b made ready once for decoding: a bf16 copy, or int8 rows with
//                       one scale each; float32 in, float32 out. On CPUs with AMX (and while
//                       fused_enabled()) both run on AMX tiles (kernels/amx_linear.h), else
//                       through LibTorch (bf16 linear; int8: dynamic quantized linear, oneDNN).
//   Linear (module)     parameters "weight" [out, in] and "bias" [out], initialised like
//                       torch::nn::Linear (same random draws); forward is dense(), or its
//                       PackedLinear after pack() until unpack().
#pragma once

#include <ATen/core/ivalue.h>
#include <torch/torch.h>

#include <optional>

#include "model/device.h"
#include "model/kernels/amx_linear.h"
#include "model/precision.h"

namespace qkv {

/// The GEMM precision dense() uses on this thread: kFp32 unless a ScopedGemmPrecision says
/// otherwise.
Precision gemm_precision();

/// RAII: the large GEMMs on `device` run in `precision` (kFp32 or kBf16) until the scope ends.
/// On a CPU, dense() on this thread casts to bf16; on CUDA, autocast does it (device.h) and
/// dense() stays fp32. For training: wrap forward and loss; backward follows the casts.
class ScopedGemmPrecision {
 public:
  ScopedGemmPrecision(Precision precision, torch::Device device);
  ~ScopedGemmPrecision();
  ScopedGemmPrecision(const ScopedGemmPrecision&) = delete;
  ScopedGemmPrecision& operator=(const ScopedGemmPrecision&) = delete;

 private:
  Precision previous_;
  std::optional<ScopedAutocast> autocast_;
};

/// x [..., in], weight [out, in], bias [out] or undefined -> [..., out], float32.
torch::Tensor dense(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

/// A linear layer's weights converted once for decoding in kFp32 (a contiguous copy), kBf16 or
/// kInt8 (CPU only). Holds copies: later changes to the original weights do not reach it.
class PackedLinear {
 public:
  PackedLinear(const torch::Tensor& weight, const torch::Tensor& bias, Precision precision);

  /// x [..., in] float32 -> [..., out] float32.
  torch::Tensor operator()(const torch::Tensor& x) const;

  Precision precision() const { return precision_; }
  /// True when the products run on AMX tiles (kernels/amx_linear.h), not through LibTorch.
  bool uses_amx() const { return amx_.has_value(); }

 private:
  Precision precision_;
  int64_t out_features_;
  torch::Tensor weight_;  // fp32/bf16: [out, in] in that dtype
  torch::Tensor bias_;    // fp32/bf16: [out] in that dtype (or undefined)
  c10::IValue int8_;      // int8: LibTorch's prepacked weights and bias (LinearPackedParams)
  std::optional<AmxLinear> amx_;  // bf16/int8 on AMX tiles instead of the three above
};

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features);

  /// x [..., in] -> [..., out]: the PackedLinear while packed, else dense().
  torch::Tensor forward(const torch::Tensor& x);

  /// Converts the current weights for decoding in `precision` (kFp32, kBf16 or kInt8).
  void pack(Precision precision);
  /// Back to dense() on the live weights (training changes them).
  void unpack() { packed_.reset(); }
  const std::optional<PackedLinear>& packed() const { return packed_; }

  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out]

 private:
  std::optional<PackedLinear> packed_;
};
TORCH_MODULE(Linear);

}  // namespace qkv
