#include "model/device.h"

#include <torch/cuda.h>

#include <stdexcept>

#include "model/torch_compat.h"

namespace qkv {

std::optional<DeviceChoice> parse_device_choice(const std::string& text) {
  if (text == "auto") return DeviceChoice{DeviceKind::kAuto};
  if (text == "cpu") return DeviceChoice{DeviceKind::kCpu};
  if (text == "cuda") return DeviceChoice{DeviceKind::kCuda};
  const std::string prefix = "cuda:";
  if (text.rfind(prefix, 0) != 0 || text.size() == prefix.size() || text.size() > prefix.size() + 4)
    return std::nullopt;
  int64_t index = 0;
  for (char c : text.substr(prefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + (c - '0');
  }
  return DeviceChoice{DeviceKind::kCuda, index};
}

std::string device_choice_name(const DeviceChoice& choice) {
  switch (choice.kind) {
    case DeviceKind::kAuto:
      return "auto";
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      break;
  }
  return choice.index < 0 ? "cuda" : "cuda:" + std::to_string(choice.index);
}

torch::Device resolve_device(const DeviceChoice& choice, const std::string& setting) {
  const bool cuda = torch::cuda::is_available();
  switch (choice.kind) {
    case DeviceKind::kCpu:
      return torch::kCPU;
    case DeviceKind::kAuto:
      return cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    case DeviceKind::kCuda:
      break;
  }
  const std::string asked = setting + " " + device_choice_name(choice);
  if (!torch_compat::kBuiltWithCuda) {
    throw std::runtime_error(asked +
                             ": this qkv is built on a LibTorch without CUDA (README \"Supported "
                             "systems\" says how to build on a CUDA LibTorch); use cpu or auto");
  }
  if (!cuda) {
    throw std::runtime_error(
        asked + ": no usable CUDA device (no GPU, or no driver for it); use cpu or auto");
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (choice.index >= count) {
    throw std::runtime_error(asked + ": there are only " + std::to_string(count) +
                             " CUDA devices (cuda:0 to cuda:" + std::to_string(count - 1) + ")");
  }
  return choice.index < 0
             ? torch::Device(torch::kCUDA)
             : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(choice.index));
}

torch::Device resolve_device_flag(const std::string& text) {
  const auto choice = parse_device_choice(text);
  if (!choice) {
    throw std::invalid_argument("--device: '" + text + "' is not one of: " + kDeviceChoices);
  }
  return resolve_device(*choice, "--device");
}

torch::Device device_of(const torch::nn::Module& module) {
  const auto parameters = module.parameters(/*recurse=*/true);
  return parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
}

ScopedAutocast::ScopedAutocast(torch::DeviceType device, torch::ScalarType dtype)
    : device_(device), was_enabled_(torch_compat::autocast_enabled(device)) {
  torch_compat::enable_autocast(device, dtype);
}

ScopedAutocast::~ScopedAutocast() {
  if (!was_enabled_) torch_compat::disable_autocast(device_);
}

}  // namespace qkv
