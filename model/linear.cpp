// Linear layers in fp32, bf16 or int8 (see linear.h).
#include "model/linear.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "model/kernels/dispatch.h"

namespace qkv {

namespace {

thread_local Precision gemm_precision_in_force = Precision::kFp32;

torch::Tensor to_bf16(const torch::Tensor& t) { return t.defined() ? t.to(torch::kBFloat16) : t; }

// LibTorch's quantized operators, found once by name: they are registered by libtorch_cpu
// (TORCH_LIBRARY(quantized, ...)) and have no C++ API of their own.
c10::OperatorHandle quantized_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
}

// Weight rows quantized symmetrically to int8, one scale per output row (max |w| -> 127), and
// prepacked with the bias for oneDNN's int8 GEMM.
c10::IValue prepack_int8(const torch::Tensor& weight, const torch::Tensor& bias) {
  auto& context = at::globalContext();
  const auto& engines = context.supportedQEngines();
  if (std::find(engines.begin(), engines.end(), at::QEngine::ONEDNN) == engines.end()) {
    throw std::runtime_error(
        "--precision int8: this LibTorch has no oneDNN quantized engine; use fp32 or bf16");
  }
  context.setQEngine(at::QEngine::ONEDNN);
  const auto w = weight.detach().to(torch::kFloat32).contiguous();  // [out, in]
  const auto scales = (w.abs().amax(/*dim=*/1).clamp_min(1e-12) / 127.0).to(torch::kDouble);
  const auto zero_points = torch::zeros({w.size(0)}, torch::kLong);
  const auto qweight = torch::quantize_per_channel(w, scales, zero_points, 0, torch::kQInt8);
  torch::jit::Stack stack{
      qweight, bias.defined() ? c10::IValue(bias.detach().to(torch::kFloat32)) : c10::IValue()};
  static const auto prepack = quantized_op("quantized::linear_prepack");
  prepack.callBoxed(&stack);
  return stack.at(0);
}

// y = x W^T + b with W int8: LibTorch quantizes x per call (its min and max) to 8 bits and
// returns float32.
torch::Tensor apply_int8(const torch::Tensor& x, const c10::IValue& packed) {
  static const auto linear_dynamic = quantized_op("quantized::linear_dynamic");
  torch::jit::Stack stack{x.to(torch::kFloat32).contiguous(), packed, /*reduce_range=*/false};
  linear_dynamic.callBoxed(&stack);
  return stack.at(0).toTensor();
}

}  // namespace

Precision gemm_precision() { return gemm_precision_in_force; }

ScopedGemmPrecision::ScopedGemmPrecision(Precision precision, torch::Device device)
    : previous_(gemm_precision_in_force) {
  if (precision != Precision::kFp32 && precision != Precision::kBf16) {
    throw std::invalid_argument(std::string("ScopedGemmPrecision: fp32 or bf16, not ") +
                                precision_name(precision));
  }
  if (precision == Precision::kBf16 && !device.is_cpu()) {
    autocast_.emplace(device.type(), torch::kBFloat16);
  } else {
    gemm_precision_in_force = precision;
  }
}

ScopedGemmPrecision::~ScopedGemmPrecision() { gemm_precision_in_force = previous_; }

torch::Tensor dense(const torch::Tensor& x,
                    const torch::Tensor& weight,
                    const torch::Tensor& bias) {
  if (gemm_precision_in_force != Precision::kBf16 || !x.is_cpu()) {
    return torch::linear(x, weight, bias);
  }
  return torch::linear(to_bf16(x), to_bf16(weight), to_bf16(bias)).to(torch::kFloat32);
}

PackedLinear::PackedLinear(const torch::Tensor& weight,
                           const torch::Tensor& bias,
                           Precision precision)
    : precision_(precision), out_features_(weight.size(0)) {
  torch::NoGradGuard no_grad;
  if (precision == Precision::kBf16 || precision == Precision::kInt8) {
    const AmxFormat format = precision == Precision::kBf16 ? AmxFormat::kBf16 : AmxFormat::kInt8;
    if (weight.is_cpu() && fused_enabled() && amx_usable(format)) {
      amx_.emplace(weight, bias, format);
      return;
    }
  }
  switch (precision) {
    case Precision::kFp32:
      weight_ = weight.detach().clone();
      bias_ = bias.defined() ? bias.detach().clone() : bias;
      return;
    case Precision::kBf16:
      weight_ = to_bf16(weight).contiguous();
      bias_ = to_bf16(bias);
      return;
    case Precision::kInt8:
      if (!weight.is_cpu()) throw std::invalid_argument("PackedLinear: int8 is for CPU weights");
      int8_ = prepack_int8(weight, bias);
      return;
    case Precision::kAuto:
      break;
  }
  throw std::invalid_argument("PackedLinear: resolve auto first (resolve_precision)");
}

torch::Tensor PackedLinear::operator()(const torch::Tensor& x) const {
  if (amx_) return (*amx_)(x);
  switch (precision_) {
    case Precision::kBf16:
      return torch::linear(to_bf16(x), weight_, bias_).to(torch::kFloat32);
    case Precision::kInt8: {
      // The quantized op wants 2-D input: [..., in] -> [N, in] -> [..., out].
      auto sizes = x.sizes().vec();
      auto y = apply_int8(x.reshape({-1, x.size(-1)}), int8_);
      sizes.back() = out_features_;
      return y.view(sizes);
    }
    default:
      return torch::linear(x, weight_, bias_);
  }
}

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  bias = register_parameter("bias", torch::empty({out_features}));
  // torch::nn::Linear's initialisation, draw for draw, so that a seed gives the same model as
  // before this class existed (the Transformer re-initialises both afterwards).
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  bias.uniform_(-bound, bound);
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  return packed_ ? (*packed_)(x) : dense(x, weight, bias);
}

void LinearImpl::pack(Precision precision) { packed_.emplace(weight, bias, precision); }

}  // namespace qkv
