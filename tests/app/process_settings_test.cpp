// app/process_settings: the thread count qkv applies (0 = its measured default) is the one
// LibTorch then uses, and the CPU settings (denormals flushed, AVX-512 kernels where the CPU
// has them) are in place after the first call.
#include "app/process_settings.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <cstdlib>
#include <limits>

#include "model/kernels/amx_linear.h"
#include "model/kernels/dispatch.h"

namespace qkv {
namespace {

TEST(ProcessSettings, AppliesTheRequestedOrDefaultThreadCount) {
  EXPECT_EQ(configure_threads(2), 2);
  EXPECT_EQ(at::get_num_threads(), 2);
  EXPECT_EQ(configure_threads(0), default_torch_threads());
  EXPECT_EQ(at::get_num_threads(), default_torch_threads());
}

TEST(ProcessSettings, DenormalsAreFlushedUnlessAskedToKeepThem) {
  configure_threads(0);
  if (std::getenv("QKV_KEEP_DENORMALS") != nullptr) GTEST_SKIP() << "QKV_KEEP_DENORMALS is set";
  // The smallest normal float halved is a denormal; flushed, a LibTorch op makes it zero.
  const float tiny = std::numeric_limits<float>::min();
  const auto halved = torch::full({4}, tiny) * 0.5f;
  EXPECT_EQ(halved[0].item<float>(), 0.0f);
}

TEST(ProcessSettings, AvxCapabilityFollowsTheCpu) {
  configure_threads(0);
  const char* capability = std::getenv("ATEN_CPU_CAPABILITY");
  if (!has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  EXPECT_NE(capability, nullptr);  // set by qkv unless the user had set it
}

// bf16 GEMMs run in oneDNN on torch's OpenMP pool, so bf16 gets OpenBLAS's thread count;
// fp32 and int8 keep torch at one thread beside OpenBLAS's pool.
TEST(ProcessSettings, Bf16GetsAsManyTorchThreadsAsOpenBlas) {
  set_blas_threads(2);
  EXPECT_EQ(default_torch_threads(Precision::kFp32), 1);
  // int8 on qkv's AMX kernel uses torch's pool; LibTorch's own int8 path is faster on one.
  EXPECT_EQ(default_torch_threads(Precision::kInt8),
            amx_usable(AmxFormat::kInt8) ? blas_threads() : 1);
  EXPECT_EQ(default_torch_threads(Precision::kBf16), blas_threads());
  EXPECT_EQ(configure_threads(0, Precision::kBf16), blas_threads());
  EXPECT_EQ(at::get_num_threads(), blas_threads());
  set_blas_threads(1);
  if (blas_threads() != 1) GTEST_SKIP() << "the BLAS is not OpenBLAS: its threads are its own";
  EXPECT_EQ(configure_threads(0, Precision::kBf16), 1) << "serve's one thread, or a rank's share";
  EXPECT_EQ(configure_threads(3, Precision::kBf16), 3) << "an explicit count wins";
  configure_threads(0);
}

// at::parallel_for's OpenMP pragma compiles into qkv's own code: without -fopenmp (CMakeLists.txt)
// every parallel loop in qkv's kernels ran on one thread whatever the count said.
TEST(ProcessSettings, TorchThreadsReachQkvsOwnParallelLoops) {
  configure_threads(2);
  std::atomic<int> most{0};
  at::parallel_for(0, 16, /*grain_size=*/1, [&](int64_t, int64_t) {
    int seen = most.load();
    while (at::get_thread_num() > seen && !most.compare_exchange_weak(seen, at::get_thread_num())) {
    }
  });
  EXPECT_EQ(most.load(), 1) << "the second thread never ran a chunk";
  configure_threads(0);
}

// Data-parallel ranks share the machine's cores out for OpenBLAS, at least one thread each.
TEST(ProcessSettings, BlasThreadsPerRankShareTheCores) {
  EXPECT_EQ(blas_threads_per_rank(2, 2), 1);
  EXPECT_EQ(blas_threads_per_rank(16, 2), 8);
  EXPECT_EQ(blas_threads_per_rank(2, 4), 1);
  EXPECT_EQ(blas_threads_per_rank(8, 0), 8);
}

}  // namespace
}  // namespace qkv
