// Token-budget batches of examples: length bucketing, a seeded shuffle per epoch, padding, and
// a resumable position. Masks are not built here (model/masks.cpp builds them from the padded
// tensors, true = may attend); what this file guarantees is that no sequence is empty, so no
// query ever has nothing to attend to.
//
// Sequences in a batch (pad = 0, bos = 2, eos = 3, see data/special_tokens.h):
//   src     = source tokens + eos        [B, S]
//   tgt_in  = bos + target tokens        [B, T]   (decoder input, teacher forcing)
//   tgt_out = target tokens + eos        [B, T]   (what the decoder must predict)
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace qkv {

struct BatchingOptions {
  int64_t max_tokens = 4096;  // budget per batch: B * max(S, T), padding included
  bool shuffle = true;        // shuffle within equal lengths and the batch order, every epoch
  uint64_t seed = 1;          // with the epoch, fixes the shuffle
};

struct Batch {
  torch::Tensor src;                     // [B, S] int64: source + eos, padded with pad
  torch::Tensor tgt_in;                  // [B, T] int64: bos + target, padded with pad
  torch::Tensor tgt_out;                 // [B, T] int64: target + eos, padded with pad
  int64_t num_target_tokens = 0;         // non-pad positions of tgt_out (eos included)
  std::vector<int64_t> example_indices;  // row b came from examples[example_indices[b]]
};

/// Batches of one epoch as lists of example indices. Examples are sorted by length (so a batch
/// holds similar lengths and little padding) and packed greedily while B * max(S, T) <=
/// max_tokens. With shuffle, equal-length examples are shuffled before the (stable) sort and
/// the batch order is shuffled after, from a generator seeded by (seed, epoch): the same seed
/// and epoch give the same batches on every machine. The batch boundaries do not depend on the
/// epoch. Throws std::invalid_argument for an empty example or one over the budget on its own.
std::vector<std::vector<int64_t>> plan_batches(const std::vector<Example>& examples,
                                               const BatchingOptions& options,
                                               int64_t epoch);

/// Pads the chosen examples into a Batch (see the file comment for the layout).
Batch collate(const std::vector<Example>& examples, const std::vector<int64_t>& indices);

/// `batch` with its tensors on `device` (the same tensors when they are there already).
Batch to_device(const Batch& batch, torch::Device device);

/// Source sequences as the model reads them: each + eos, padded into [B, S] int64. The same
/// layout as Batch::src, for translating text outside a training batch.
torch::Tensor make_source_tensor(const std::vector<std::vector<int64_t>>& sources);

/// Where a BatchStream stands: the next batch is plan_batches(..., epoch)[batch].
struct BatchPosition {
  int64_t epoch = 0;  // 0-based
  int64_t batch = 0;  // 0-based index within the epoch
};

inline bool operator==(const BatchPosition& a, const BatchPosition& b) {
  return a.epoch == b.epoch && a.batch == b.batch;
}

/// An endless stream of training batches over epochs. Save position() with a checkpoint and
/// pass it back to the constructor to resume mid-epoch with exactly the same batches.
class BatchStream {
 public:
  /// Throws std::invalid_argument for no examples, an empty or over-budget example, or a start
  /// position outside [0, batches_per_epoch()).
  BatchStream(std::vector<Example> examples, BatchingOptions options, BatchPosition start = {});

  /// The batch at position(); then moves on (to batch 0 of the next epoch after the last).
  Batch next();

  /// Position of the batch the next call to next() returns.
  BatchPosition position() const { return position_; }

  /// Number of batches in every epoch.
  int64_t batches_per_epoch() const { return static_cast<int64_t>(plan_.size()); }

  const std::vector<Example>& examples() const { return examples_; }

 private:
  void plan_epoch(int64_t epoch);

  std::vector<Example> examples_;
  BatchingOptions options_;
  BatchPosition position_;
  std::vector<std::vector<int64_t>> plan_;  // batches of position_.epoch
  int64_t planned_epoch_ = -1;
};

}  // namespace qkv
