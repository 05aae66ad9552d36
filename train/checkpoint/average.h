// Checkpoint averaging: the element-wise mean of the model weights of several checkpoints of
// one run (Vaswani et al. 2017 average the last 5 or 20). The average of nearby points on the
// training trajectory usually scores a little better than any one of them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "train/checkpoint/checkpoint.h"

namespace qkv {

/// Averages the model weights of `paths` (at least one). Step, config, tokenizer and metadata
/// come from the last path; the optimizer state is left empty (an average is for translating,
/// not for resuming) and metrics["averaged_checkpoints"] holds the count. Throws
/// CheckpointError naming the file that cannot be loaded or does not match the first one
/// (other parameter names or shapes, another tokenizer).
Checkpoint average_checkpoints(const std::vector<std::filesystem::path>& paths);

/// The newest `count` step checkpoints of run directory `run` (oldest first). Throws
/// std::runtime_error naming the run when it has none, or when `count` < 1.
std::vector<std::filesystem::path> last_step_checkpoints(const std::filesystem::path& run,
                                                         int64_t count);

}  // namespace qkv
