// The fused-kernel switch, the AVX-512 check and the kernels' seed (see dispatch.h).
#include "model/kernels/dispatch.h"

#include <ATen/CPUGeneratorImpl.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace qkv {

namespace {

// ScopedFusedKernels' override: -1 none, 0 off, 1 on. Atomic: read by every module call.
std::atomic<int> forced{-1};

}  // namespace

bool fused_enabled() {
  const int override_state = forced.load(std::memory_order_relaxed);
  if (override_state >= 0) return override_state == 1;
  static const bool enabled_by_environment = std::getenv("QKV_NO_FUSED") == nullptr;
  return enabled_by_environment;
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  return yes;
}

uint64_t draw_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get<at::CPUGeneratorImpl>()->random64();
}

ScopedFusedKernels::ScopedFusedKernels(bool enabled)
    : previous_(forced.exchange(enabled ? 1 : 0)) {}

ScopedFusedKernels::~ScopedFusedKernels() { forced.store(previous_); }

}  // namespace qkv
