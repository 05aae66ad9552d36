#include "train/threads.h"

#include <ATen/Parallel.h>

namespace qkv {

// Measured on 2 Zen 4 cores with OpenBLAS 0.3.21 (../shared/bench/README.md and `qkv bench`):
// one torch thread while OpenBLAS keeps its two is the fastest for training.
int64_t default_torch_threads() { return 1; }

int64_t configure_threads(int64_t requested) {
  const int64_t threads = requested > 0 ? requested : default_torch_threads();
  at::set_num_threads(static_cast<int>(threads));
  return threads;
}

}  // namespace qkv
