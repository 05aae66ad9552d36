// The TrainingGroup of a data-parallel run on torch.distributed's c10d (dist/): what
// `qkv train` plugs into the trainer when a launcher (torchrun, `qkv train --nproc`) set
// WORLD_SIZE > 1. Built only where qkv_dist is (QKV_HAVE_DIST).
#pragma once

#include <chrono>
#include <memory>

#include "dist/distributed_env.h"
#include "train/training_group.h"

namespace qkv {

/// Joins the group `env` describes (every rank within `timeout`; the same timeout bounds each
/// collective). Throws std::runtime_error with one line when the rendezvous fails.
std::unique_ptr<TrainingGroup> join_training_group(const DistributedEnv& env,
                                                   std::chrono::milliseconds timeout);

}  // namespace qkv
