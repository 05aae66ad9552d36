// The one place where qkv's code differs between the LibTorch versions it builds with: Debian
// 12's 1.13 and Debian 13's 2.6 (also a PyTorch wheel's 2.x LibTorch, for CUDA). Everything
// else is written once against the API both share. Each difference is one small function.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <optional>

namespace qkv::torch_compat {

/// Whether torch::scaled_dot_product_attention exists (LibTorch 2.0 and later).
constexpr bool kHasScaledDotProductAttention = TORCH_VERSION_MAJOR >= 2;

/// Whether this LibTorch build has CUDA (a property of the build, set by CMake from the
/// libraries it links; torch::cuda::is_available() also needs a GPU and its driver).
#ifdef QKV_TORCH_HAS_CUDA
constexpr bool kBuiltWithCuda = true;
#else
constexpr bool kBuiltWithCuda = false;
#endif

/// The key of `parameter` in torch::optim::Optimizer::state(): its TensorImpl's address as text
/// in 1.13, the pointer itself in 2.x.
inline auto optimizer_state_key(const torch::Tensor& parameter) {
#if TORCH_VERSION_MAJOR >= 2
  return static_cast<void*>(parameter.unsafeGetTensorImpl());
#else
  return c10::guts::to_string(parameter.unsafeGetTensorImpl());
#endif
}

/// softmax(q k^T / sqrt(Dh), masked) v as one LibTorch op (flash or memory-efficient kernels
/// on a GPU). q [B, H, Tq, Dh], k and v [B, H, Tk, Dh], keep_mask bool broadcastable to
/// [B, H, Tq, Tk] (true = may attend, the polarity of model/masks.h) or undefined. Returns [B, H,
/// Tq, Dh], or nullopt where LibTorch has no such op (1.13): then the caller runs the definition.
inline std::optional<torch::Tensor> scaled_dot_product_attention(const torch::Tensor& q,
                                                                 const torch::Tensor& k,
                                                                 const torch::Tensor& v,
                                                                 const torch::Tensor& keep_mask,
                                                                 double dropout) {
#if TORCH_VERSION_MAJOR >= 2
  const auto mask = keep_mask.defined() ? std::optional<torch::Tensor>(keep_mask) : std::nullopt;
  return at::scaled_dot_product_attention(q, k, v, mask, dropout);
#else
  (void)q, (void)k, (void)v, (void)keep_mask, (void)dropout;
  return std::nullopt;
#endif
}

/// Turns autocast for `device` on, with `dtype` for the ops autocast lowers.
inline void enable_autocast(torch::DeviceType device, torch::ScalarType dtype) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_dtype(device, dtype);
  at::autocast::set_autocast_enabled(device, true);
#else
  if (device == torch::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(true);
  }
#endif
}

/// Turns autocast for `device` off and frees its cache of lowered weights.
inline void disable_autocast(torch::DeviceType device) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(device, false);
#else
  if (device == torch::kCUDA) {
    at::autocast::set_enabled(false);
  } else {
    at::autocast::set_cpu_enabled(false);
  }
#endif
  at::autocast::clear_cache();
}

/// Whether autocast is on for `device`.
inline bool autocast_enabled(torch::DeviceType device) {
#if TORCH_VERSION_MAJOR >= 2
  return at::autocast::is_autocast_enabled(device);
#else
  return device == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

}  // namespace qkv::torch_compat
