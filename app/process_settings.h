// Thread settings. Debian's libtorch runs fp32 GEMMs in OpenBLAS, which keeps its own thread
// pool (all cores) whatever torch::set_num_threads says; torch's OpenMP threads spinning on
// top of it fight it for the cores. qkv's default is the fastest measured setting.
#pragma once

#include <cstdint>
#include <optional>

#include "model/precision.h"

namespace qkv {

/// The intra-op thread count qkv uses when the config says 0, for the large GEMMs in
/// `precision` (resolved: not kAuto). fp32: 1, since OpenBLAS runs its GEMMs on its own pool
/// (and LibTorch's int8 path is faster on one). bf16, and int8 on AMX: as many as OpenBLAS has
/// (every core, a data-parallel rank's share, or `qkv serve`'s --threads), since oneDNN and
/// qkv's own kernels run on torch's OpenMP pool. See README, Performance.
int64_t default_torch_threads(Precision precision = Precision::kFp32);

/// Applies `requested` torch intra-op threads (0 = default_torch_threads(precision)); returns
/// the count. Call again once the precision is known (and after joining a data-parallel group,
/// which shares out OpenBLAS's threads).
int64_t configure_threads(int64_t requested, Precision precision = Precision::kFp32);

/// Sets OpenBLAS's own thread count (at least 1). Debian's libblas.so.3 is OpenBLAS (setup.sh
/// checks); with another BLAS this does nothing and that library keeps its threads.
void set_blas_threads(int64_t threads);

/// OpenBLAS's thread count now; nothing with another BLAS.
std::optional<int64_t> openblas_threads();

/// OpenBLAS's thread count now (with another BLAS: the machine's hardware threads).
int64_t blas_threads();

/// OpenBLAS threads for each of `local_ranks` data-parallel ranks on a machine with `cores`:
/// the cores shared out, at least one each. Two ranks on 2 cores get one thread each: small
/// GEMMs scale badly across threads, and each rank's own pool would otherwise want every core.
int64_t blas_threads_per_rank(int64_t cores, int64_t local_ranks);

}  // namespace qkv
