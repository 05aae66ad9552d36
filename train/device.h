// train.device resolved against the LibTorch build: the one place that decides which
// torch::Device a DeviceKind means.
#pragma once

#include <c10/core/Device.h>
#include <torch/cuda.h>

#include <stdexcept>

#include "train/config.h"

namespace qkv {

/// What `cuda` without a usable CUDA device is told (after "train.device: ").
inline constexpr const char* kNoCudaDevice =
    "cuda, but this LibTorch build has no usable CUDA device; use cpu or auto";

/// True when `kind` names a device this process can use (only kCuda can fail).
inline bool device_available(DeviceKind kind) {
  return kind != DeviceKind::kCuda || torch::cuda::is_available();
}

/// kAuto: CUDA if this LibTorch build has a usable CUDA device, else CPU. kCpu: CPU. kCuda:
/// CUDA; throws std::runtime_error ("train.device: cuda, but ...") when none is usable. Called
/// where the device is used (the trainer), not by config validation: a run trained on a GPU
/// must still load on a CPU-only machine.
inline torch::Device resolve_device(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kCpu:
      return torch::kCPU;
    case DeviceKind::kCuda:
      if (!device_available(kind))
        throw std::runtime_error(std::string("train.device: ") + kNoCudaDevice);
      return torch::kCUDA;
    case DeviceKind::kAuto:
      break;
  }
  return torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
}

}  // namespace qkv
