// The run directory: everything `translate`, `evaluate` and `attention` need, and nothing else.
//   RUN/config.yaml        resolved config
//   RUN/spm.model          tokenizer
//   RUN/checkpoints/step-<N>.pt, best.pt   torch.load-able checkpoints (average.pt: qkv average)
//   RUN/metrics.jsonl      one JSON object per logged step and per validation
//   RUN/train.log          log file
//   RUN/loss.png           training curves (loss, validation loss and BLEU)
//   RUN/attention/         probe-sentence attention over training
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace qkv {

class RunDir {
 public:
  explicit RunDir(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config() const { return root_ / "config.yaml"; }
  std::filesystem::path tokenizer() const { return root_ / "spm.model"; }
  std::filesystem::path checkpoints() const { return root_ / "checkpoints"; }
  std::filesystem::path metrics() const { return root_ / "metrics.jsonl"; }
  std::filesystem::path log() const { return root_ / "train.log"; }
  std::filesystem::path attention() const { return root_ / "attention"; }
  std::filesystem::path loss_plot() const { return root_ / "loss.png"; }
  std::filesystem::path step_checkpoint(int64_t step) const;
  std::filesystem::path best_checkpoint() const { return checkpoints() / "best.pt"; }
  /// Written by `qkv average`.
  std::filesystem::path average_checkpoint() const { return checkpoints() / "average.pt"; }

  /// step-<N>.pt files, oldest (lowest step) first.
  std::vector<std::filesystem::path> step_checkpoints() const;
  /// The step checkpoint with the highest step, if any.
  std::optional<std::filesystem::path> latest_checkpoint() const;
  /// Resolves "best", "last", "average" or a path to a checkpoint file; throws std::runtime_error
  /// naming the run directory when there is none.
  std::filesystem::path resolve_checkpoint(const std::string& which) const;
  /// Deletes all but the newest `keep` step checkpoints (best.pt is a separate file).
  void prune_step_checkpoints(int64_t keep) const;
  /// Makes best.pt the same file as `checkpoint` (a hard link, put in place atomically by
  /// link_file_atomically). Throws std::runtime_error naming best.pt.
  void mark_best(const std::filesystem::path& checkpoint) const;

 private:
  std::filesystem::path root_;
};

}  // namespace qkv
