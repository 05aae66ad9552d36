// The training curves of a run as a PNG (drawn with cairo): training loss and validation loss
// against steps, and validation BLEU on a second axis.
#pragma once

#include <filesystem>
#include <vector>

#include "train/metrics_log.h"

namespace qkv {

/// Draws `records` (metrics.jsonl) into a `width` x `height` PNG at `path`. Throws
/// std::runtime_error when the file cannot be written.
void write_loss_plot(const std::vector<MetricsRecord>& records,
                     const std::filesystem::path& path,
                     int width = 900,
                     int height = 500);

}  // namespace qkv
