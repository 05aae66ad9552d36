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

}  // namespace qkv
