// Thread settings. Debian's libtorch runs fp32 GEMMs in OpenBLAS, which keeps its own thread
// pool (all cores) whatever torch::set_num_threads says; torch's OpenMP threads spinning on
// top of it fight it for the cores. qkv's default is the fastest measured setting.
#pragma once

#include <cstdint>

namespace qkv {

/// The intra-op thread count qkv uses when the config says 0 (see README, Performance).
int64_t default_torch_threads();

/// Applies `requested` torch intra-op threads (0 = default_torch_threads()); returns the count.
int64_t configure_threads(int64_t requested);

/// Sets OpenBLAS's own thread count (at least 1). Debian's libblas.so.3 is OpenBLAS (setup.sh
/// checks); with another BLAS this does nothing and that library keeps its threads.
void set_blas_threads(int64_t threads);

/// OpenBLAS threads for each of `local_ranks` data-parallel ranks on a machine with `cores`:
/// the cores shared out, at least one each. Two ranks on 2 cores get one thread each: small
/// GEMMs scale badly across threads, and each rank's own pool would otherwise want every core.
int64_t blas_threads_per_rank(int64_t cores, int64_t local_ranks);

}  // namespace qkv
