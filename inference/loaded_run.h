// A trained run loaded for use: its config, tokenizer and model weights from one checkpoint.
// This is all that `translate`, `evaluate` and `attention` need (see run_dir.h).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "model/transformer.h"
#include "train/experiment_config.h"

namespace qkv {

struct LoadedRun {
  ExperimentConfig config;
  std::unique_ptr<Tokenizer> tokenizer;
  Transformer model{nullptr};
  std::filesystem::path checkpoint;
  int64_t step = 0;
};

/// Loads RUN/config.yaml, RUN/spm.model and the checkpoint `which` ("best", "last" or a
/// path) onto `device` (see model/device.h: resolve_device). The model is in eval mode. Throws
/// std::runtime_error / CheckpointError with a clear message (no run directory, no checkpoint,
/// tokenizer and checkpoint from different runs).
LoadedRun load_run(const std::filesystem::path& run_dir,
                   const std::string& which = "best",
                   torch::Device device = torch::kCPU);

/// The config saved in a run directory (RUN/config.yaml), with `overrides` applied (for
/// `qkv train --resume`). Throws std::runtime_error when the directory has no config.yaml.
ExperimentConfig load_run_config(const std::filesystem::path& run_dir,
                                 const std::vector<std::string>& overrides);

}  // namespace qkv
