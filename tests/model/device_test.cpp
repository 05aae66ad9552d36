// Tests of model/device: the spellings of a device, what they resolve to on this machine, the
// one-line errors when CUDA is asked for and missing, and ScopedAutocast.
#include "model/device.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "model/torch_compat.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;

TEST(DeviceChoice, ParsesEverySpellingAndPrintsItBack) {
  for (const char* text : {"auto", "cpu", "cuda", "cuda:0", "cuda:12"}) {
    const auto choice = parse_device_choice(text);
    ASSERT_TRUE(choice.has_value()) << text;
    EXPECT_EQ(device_choice_name(*choice), text);
  }
  EXPECT_EQ(parse_device_choice("cuda:3")->index, 3);
  EXPECT_EQ(parse_device_choice("cuda")->index, -1);
}

TEST(DeviceChoice, RejectsOtherText) {
  for (const char* text : {"",
                           "gpu",
                           "CPU",
                           "cuda:",
                           "cuda:-1",
                           "cuda:x",
                           "cuda:1.5",
                           "cuda:99999",
                           " cpu",
                           "cpu:0",
                           "mps"}) {
    EXPECT_FALSE(parse_device_choice(text).has_value()) << "'" << text << "'";
  }
}

TEST(ResolveDevice, CpuIsCpuAndAutoFollowsTheMachine) {
  EXPECT_TRUE(resolve_device({DeviceKind::kCpu}, "--device").is_cpu());
  EXPECT_EQ(resolve_device({DeviceKind::kAuto}, "--device").is_cuda(), torch::cuda::is_available());
}

TEST(ResolveDevice, CudaWithoutOneIsOneLineNamingTheSetting) {
  if (torch::cuda::is_available()) {
    EXPECT_TRUE(resolve_device({DeviceKind::kCuda}, "--device").is_cuda());
    const auto count = static_cast<int64_t>(torch::cuda::device_count());
    try {
      resolve_device({DeviceKind::kCuda, count}, "--device");
      FAIL() << "cuda:" << count << " should not exist";
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), HasSubstr("there are only"));
    }
    return;
  }
  try {
    resolve_device({DeviceKind::kCuda, 1}, "train.device");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("train.device cuda:1: "));
    EXPECT_THAT(message,
                HasSubstr(torch_compat::kBuiltWithCuda ? "no usable CUDA device"
                                                       : "LibTorch without CUDA"));
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST(ResolveDeviceFlag, NamesTheFlagForASpellingThatIsNoDevice) {
  EXPECT_TRUE(resolve_device_flag("cpu").is_cpu());
  try {
    resolve_device_flag("gpu");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--device: 'gpu' is not one of: auto, cpu, cuda or cuda:N");
  }
}

TEST(DeviceOf, IsWhereTheParametersAre) {
  torch::nn::Linear linear(2, 3);
  EXPECT_TRUE(device_of(*linear).is_cpu());
  EXPECT_TRUE(device_of(torch::nn::Module()).is_cpu());  // no parameters at all
}

// CPU autocast exists in both LibTorch versions, so the guard is tested on it; CUDA takes the
// same code path with another device type.
TEST(ScopedAutocast, LowersMatrixProductsInItsScopeOnly) {
  const auto a = torch::randn({4, 8}), b = torch::randn({8, 2});
  ASSERT_FALSE(torch_compat::autocast_enabled(torch::kCPU));
  {
    ScopedAutocast autocast(torch::kCPU, torch::kBFloat16);
    EXPECT_TRUE(torch_compat::autocast_enabled(torch::kCPU));
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    EXPECT_EQ(torch::softmax(a, -1).scalar_type(), torch::kFloat32);
  }
  EXPECT_FALSE(torch_compat::autocast_enabled(torch::kCPU));
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
}

}  // namespace
}  // namespace qkv
