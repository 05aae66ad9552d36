// The processes of one data-parallel training run, as the trainer sees them: N ranks, each
// training on its share of every global batch, summing gradients before each update, rank 0
// owning the run directory. One process is a group of one (SingleProcess below). The real group
// (torch.distributed's c10d, dist/) is plugged in by the caller (app/), so train/ builds without
// it. What is synchronised and when: docs/distributed.md.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace qkv {

class TrainingGroup {
 public:
  virtual ~TrainingGroup() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  /// Sums each tensor over the ranks, in place: every rank passes the same shapes and dtypes in
  /// the same order. Throws std::runtime_error with one line when a rank is lost.
  virtual void all_reduce_sum(const std::vector<torch::Tensor>& tensors) = 0;

  /// Overwrites each tensor with rank 0's, in place (the initial weights).
  virtual void broadcast_from_rank0(const std::vector<torch::Tensor>& tensors) = 0;

  /// Rank 0's `bytes` on every rank; the others wait for rank 0 however long it works (training
  /// the tokenizer, validating), but not past its death. `name` is new for each call.
  virtual std::string share_from_rank0(const std::string& name, std::string bytes) = 0;

  /// Throws the same one-line error on every rank unless all passed the same `text` (`what`
  /// names it: "config").
  virtual void check_same(const std::string& what, const std::string& text) = 0;
};

/// A group of one: every call is a no-op.
class SingleProcess final : public TrainingGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(const std::vector<torch::Tensor>&) override {}
  void broadcast_from_rank0(const std::vector<torch::Tensor>&) override {}
  std::string share_from_rank0(const std::string&, std::string bytes) override { return bytes; }
  void check_same(const std::string&, const std::string&) override {}
};

}  // namespace qkv
