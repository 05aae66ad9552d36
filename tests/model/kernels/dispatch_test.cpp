// Tests of model/kernels/dispatch: the fused-kernel switch and its test override, the AVX-512
// check, and that draw_seed() takes its seed from LibTorch's default CPU generator.
#include "model/kernels/dispatch.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <mutex>

namespace qkv {
namespace {

TEST(Dispatch, FusedEnabledFollowsTheEnvironmentWithoutAnOverride) {
  // The test runner does not set QKV_NO_FUSED; if someone does, the switch must say off.
  EXPECT_EQ(fused_enabled(), std::getenv("QKV_NO_FUSED") == nullptr);
}

TEST(Dispatch, ScopedOverridesNestAndRestore) {
  const bool outside = fused_enabled();
  {
    ScopedFusedKernels off(false);
    EXPECT_FALSE(fused_enabled());
    {
      ScopedFusedKernels on(true);
      EXPECT_TRUE(fused_enabled());
    }
    EXPECT_FALSE(fused_enabled());
  }
  EXPECT_EQ(fused_enabled(), outside);
}

TEST(Dispatch, HasAvx512MeansAllFourSubsets) {
  const bool all = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  EXPECT_EQ(has_avx512(), all);
}

TEST(Dispatch, DrawSeedIsTheDefaultGeneratorsNextRandom64) {
  torch::manual_seed(42);
  const uint64_t first = draw_seed();
  const uint64_t second = draw_seed();
  EXPECT_NE(first, second);
  torch::manual_seed(42);
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  EXPECT_EQ(generator.get<at::CPUGeneratorImpl>()->random64(), first);
  EXPECT_EQ(generator.get<at::CPUGeneratorImpl>()->random64(), second);
}

}  // namespace
}  // namespace qkv
