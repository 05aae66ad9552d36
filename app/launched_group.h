// Joining the data-parallel group a launcher (torchrun, `qkv train|bench --nproc N`) describes
// in the environment (WORLD_SIZE > 1), for `qkv train` and `qkv bench train` alike.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "train/training_group.h"

namespace qkv {

/// The group the launcher's variables describe, or nullptr when WORLD_SIZE is unset or 1. A rank
/// other than 0 then logs warnings and errors only, and each rank takes its share of the cores
/// for OpenBLAS unless OPENBLAS_NUM_THREADS says otherwise. Every rank must join within
/// `timeout_s`, which also bounds each collective. `tag` prefixes the log line ("train").
/// Throws std::runtime_error with one line when the rendezvous fails, or when this qkv was built
/// without c10d's Gloo (no libgloo-dev).
std::unique_ptr<TrainingGroup> join_group_if_launched(int64_t timeout_s, const std::string& tag);

}  // namespace qkv
