#include "app/process_settings.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "model/kernels/amx_linear.h"
#include "model/kernels/dispatch.h"

// OpenBLAS's own setter and getter. Weak: with another BLAS they are null.
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));
extern "C" int openblas_get_num_threads() __attribute__((weak));

namespace qkv {

namespace {

// Process-wide CPU settings that LibTorch leaves at slow defaults. Each was measured with
// `qkv bench train/greedy` (and CPU time per step with one BLAS thread, which the load of a
// shared machine disturbs less than wall time), alternating with and without, on 2 cores with
// AVX-512 and OpenBLAS 0.3.21, LibTorch 1.13.1 (Debian):
//  * ATEN_CPU_CAPABILITY=avx512: LibTorch 1.13 ships AVX-512 kernels but uses AVX2 unless asked
//    (pytorch/pytorch#80252). Elementwise ops, LayerNorm and Adam then run about twice as fast:
//    training step -12% CPU time (988 -> 871 ms), greedy decoding -7% (441 -> 410 ms).
//    Read at the first dispatched op, so this must run before any tensor work; a value the
//    user set is kept. Only on CPUs with the AVX-512 subsets LibTorch's kernels use.
//  * malloc keeps freed memory instead of handing blocks >= 32 MiB back to the kernel: the
//    [tokens, vocabulary] logits and their gradient (64 MiB each at batch 2048 x 8000) were
//    mmap'ed, page-faulted and zeroed again every step: training step -7% CPU time
//    (959 -> 895 ms). Peak memory is unchanged; freed memory is reused, not returned.
void configure_process_once() {
  if (std::getenv("ATEN_CPU_CAPABILITY") == nullptr && has_avx512()) {
    setenv("ATEN_CPU_CAPABILITY", "avx512", /*overwrite=*/0);
  }
  // Denormal floats (below 1.2e-38: the tail of sharp softmaxes, and what backward multiplies
  // them by) take a slow microcode path on x86; flushing them to zero is harmless for
  // training. Applies to this thread and threads created from it later (torch's OpenMP pool).
  if (std::getenv("QKV_KEEP_DENORMALS") == nullptr) at::globalContext().setFlushDenormal(true);
#ifdef __GLIBC__
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace

// Threads: Debian's LibTorch runs fp32 GEMMs in OpenBLAS, whose own pool has one thread per core
// whatever torch::set_num_threads says. Torch's OpenMP threads spin after each parallel region
// and fight OpenBLAS's threads for the cores. Measured with `qkv bench` (see README,
// Performance): fp32 trains at 536 ms a step with one torch thread against 826-908 with two,
// and greedy `bench translate` gives ~325 sentences/s with one against ~110 with two.
// bf16 GEMMs run in oneDNN on torch's own OpenMP pool instead, and int8 ones on qkv's AMX kernel
// (model/kernels/amx_linear.h), which like the bf16 attention kernel shares its work out with
// at::parallel_for: `bench translate --threads 1|2` on 2 cores gave bf16 ~630 against ~925 and
// int8 ~800 against ~1,070 sentences/s (2026-12-06). LibTorch's own int8 path (no AMX) is
// faster on one thread (60 against 52). OpenBLAS's count (1 or 2) made no difference for bf16,
// so it stays as it is and the low precisions match it.
int64_t default_torch_threads(Precision precision) {
  const bool own_pool = precision == Precision::kBf16 ||
                        (precision == Precision::kInt8 && amx_usable(AmxFormat::kInt8));
  return own_pool ? blas_threads() : 1;
}

int64_t configure_threads(int64_t requested, Precision precision) {
  static std::once_flag once;
  std::call_once(once, configure_process_once);
  const int64_t threads = requested > 0 ? requested : default_torch_threads(precision);
  at::set_num_threads(static_cast<int>(threads));
  return threads;
}

void set_blas_threads(int64_t threads) {
  if (openblas_set_num_threads != nullptr) {
    openblas_set_num_threads(static_cast<int>(std::max<int64_t>(threads, 1)));
  }
}

std::optional<int64_t> openblas_threads() {
  if (openblas_get_num_threads == nullptr) return std::nullopt;
  return openblas_get_num_threads();
}

int64_t blas_threads() {
  return std::max<int64_t>(openblas_threads().value_or(std::thread::hardware_concurrency()), 1);
}

int64_t blas_threads_per_rank(int64_t cores, int64_t local_ranks) {
  return std::max<int64_t>(1, cores / std::max<int64_t>(local_ranks, 1));
}

}  // namespace qkv
