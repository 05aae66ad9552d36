// Where tensors live: the one place that turns "auto", "cpu", "cuda" or "cuda:N" (train.device,
// --device) into a torch::Device. The model and the search create every tensor on the device
// of the tensors they are given; the fused CPU kernels (kernels/) check for CPU tensors
// themselves and leave every other device to plain LibTorch ops.
#pragma once

#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace qkv {

enum class DeviceKind { kAuto, kCpu, kCuda };
constexpr std::array<std::pair<DeviceKind, const char*>, 3> enum_names(DeviceKind) {
  return {{{DeviceKind::kAuto, "auto"}, {DeviceKind::kCpu, "cpu"}, {DeviceKind::kCuda, "cuda"}}};
}

/// A device as a user writes it. auto: CUDA when this LibTorch build has it and a GPU is
/// usable, else the CPU. cuda: the current CUDA device; cuda:N: device N.
struct DeviceChoice {
  DeviceKind kind = DeviceKind::kAuto;
  int64_t index = -1;  // cuda:N; -1 = none given
  bool operator==(const DeviceChoice& other) const {
    return kind == other.kind && index == other.index;
  }
};

/// "auto", "cpu", "cuda" or "cuda:N"; nothing for any other text.
std::optional<DeviceChoice> parse_device_choice(const std::string& text);

/// The spelling parse_device_choice reads: "auto", "cpu", "cuda", "cuda:1".
std::string device_choice_name(const DeviceChoice& choice);

/// The accepted spellings, for error messages.
constexpr const char* kDeviceChoices = "auto, cpu, cuda or cuda:N";

/// The device `choice` means on this machine. Throws std::runtime_error naming `setting`
/// (e.g. "--device" or "train.device") when CUDA is asked for and none is usable, saying
/// whether this LibTorch build lacks CUDA or the machine lacks a GPU. Called where the device
/// is used, not when a config is read: a run trained on a GPU still loads on a CPU machine.
torch::Device resolve_device(const DeviceChoice& choice, const std::string& setting);

/// The device a --device flag's `text` means here: std::invalid_argument ("--device: 'x' is not
/// one of: ...") for a spelling that is no device, else resolve_device(choice, "--device").
torch::Device resolve_device_flag(const std::string& text);

/// The device of `module`'s parameters (the CPU for a module without any).
torch::Device device_of(const torch::nn::Module& module);

/// Autocast on `device` for this scope: the ops autocast lists (matrix products, linear layers)
/// run in `dtype`, the rest (softmax, LayerNorm, losses) in float32. Restores the previous
/// state when the scope ends.
class ScopedAutocast {
 public:
  ScopedAutocast(torch::DeviceType device, torch::ScalarType dtype);
  ~ScopedAutocast();
  ScopedAutocast(const ScopedAutocast&) = delete;
  ScopedAutocast& operator=(const ScopedAutocast&) = delete;

 private:
  torch::DeviceType device_;
  bool was_enabled_;
};

}  // namespace qkv
