// train.device resolved against the LibTorch build: the one place that decides which
// torch::Device a DeviceKind means.
#pragma once

#include <c10/core/Device.h>
#include <torch/cuda.h>

#include <stdexcept>

#include "train/config.h"

namespace qkv {

/// kAuto: CUDA if this LibTorch build has a usable CUDA device, else CPU. kCpu: CPU. kCuda:
/// CUDA; throws std::runtime_error ("train.device: cuda, but ...") when none is usable. Called
/// where the device is used (the trainer), not by config validation: a run trained on a GPU
/// must still load on a CPU-only machine.
inline torch::Device resolve_device(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kCpu:
      return torch::kCPU;
    case DeviceKind::kCuda:
      if (!torch::cuda::is_available()) {
        throw std::runtime_error(
            "train.device: cuda, but this LibTorch build has no usable CUDA device; use cpu or "
            "auto");
      }
      return torch::kCUDA;
    case DeviceKind::kAuto:
      break;
  }
  return torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
}

}  // namespace qkv
