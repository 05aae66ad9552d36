// `qkv train`: from an experiment config to a run directory (see run_dir.h): prepares the
// data, trains the tokenizer, trains the model with Adam + schedule + label smoothing on
// train.device (model/device.h), validates (loss, greedy BLEU/chrF), and writes atomic,
// resumable checkpoints. Thread count and CPU settings are the caller's
// (app/process_settings.h); probe attention maps and the loss plot come in through hooks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/precision.h"
#include "train/checkpoint/run_dir.h"
#include "train/experiment_config.h"
#include "train/training_group.h"

namespace qkv {

class Translator;

/// What the caller plugs into training (the CLI: probe attention maps and the loss plot), so
/// the trainer needs no drawing or export code. Empty hooks are skipped.
struct TrainHooks {
  /// After each validation and its checkpoint; `translator` wraps the model being trained.
  std::function<void(Translator& translator, int64_t step)> after_validation;
  /// Once, after training stopped normally (not when it throws).
  std::function<void(const RunDir& run)> after_training;
};

struct TrainOptions {
  std::filesystem::path run_dir;
  bool resume = false;    // continue from the latest checkpoint of run_dir
  TrainHooks hooks = {};  // a default member initializer keeps {dir, resume} warning-free
  /// The data-parallel group this process is a rank of; nullptr = a single process. Every rank
  /// calls train_model with the same config; rank 0 alone reads and writes the run directory
  /// (the others get the checkpoint to resume and the tokenizer from it) and runs the hooks.
  TrainingGroup* group = nullptr;
};

struct TrainSummary {
  int64_t steps = 0;             // optimiser steps done (in total, over resumes)
  int64_t parameters = 0;        // trainable scalars
  double seconds = 0;            // training wall time (over resumes)
  double tokens_per_second = 0;  // target tokens per second, all ranks
  int world_size = 1;            // ranks that trained
  double all_reduce_share = 0;   // share of the training time spent summing gradients
  std::string stop_reason;       // "max_steps", "max_minutes", "signal", ...
  std::map<std::string, double> last_validation;  // valid_loss, valid_ppl, bleu, chrf
  double best_score = 0;                          // best value of train.best_metric
  std::filesystem::path last_checkpoint;
  std::filesystem::path best_checkpoint;
};

/// train.precision resolved on `device`, or on train.device (auto: bf16 where the CPU has
/// native bf16); throws like resolve_precision, naming train.precision.
ResolvedPrecision training_precision(const TrainConfig& tc, torch::Device device);
ResolvedPrecision training_precision(const TrainConfig& tc);

/// Trains as described above. Throws ConfigError / std::runtime_error with a clear message;
/// a run directory that this call created is removed again when it fails before the first
/// checkpoint, so a later run is not blocked by debris.
TrainSummary train_model(const ExperimentConfig& config, const TrainOptions& options);

}  // namespace qkv
