// A data-parallel group of processes on LibTorch's own c10d: rank 0 serves a c10d::TCPStore at
// MASTER_ADDR:MASTER_PORT, every rank meets there, and c10d::ProcessGroupGloo (CPU tensors)
// runs the collectives. No c10d or Gloo type appears here, so users of this header need
// neither's headers. Bucketing, scalars and config checks build on it (gradient_buckets.h,
// scalars.h, agreement.h).
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dist/distributed_env.h"

namespace qkv {

class ProcessGroup {
 public:
  /// Joins the group `env` describes (env.is_distributed() must hold). Every rank must call this
  /// within `timeout` of the others; the same `timeout` bounds each later collective, so a lost
  /// peer makes the others throw instead of waiting for ever. Throws std::runtime_error with one
  /// line naming MASTER_ADDR:MASTER_PORT when the rendezvous fails (master unreachable, a rank
  /// missing, port taken). Ignores SIGPIPE in this process unless it has a handler (as Python
  /// does), so that a write to a dead peer is an error line, not the end of this rank.
  ProcessGroup(const DistributedEnv& env, std::chrono::milliseconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;

  /// Sums each tensor over all ranks, in place. Each must be a dense, contiguous CPU tensor with
  /// the same shape and dtype on every rank, in the same order. All are started before any is
  /// waited for, so Gloo's threads work on two at once. Throws std::runtime_error with one line
  /// (describe_collective_failure) when a peer is lost.
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors);

  /// Overwrites each tensor with rank 0's, in place (same requirements as all_reduce_sum).
  void broadcast_from_rank0(const std::vector<torch::Tensor>& tensors);

  /// Every rank's `tensor` (same shape and dtype everywhere), stacked in rank order:
  /// [world_size, ...tensor's shape].
  torch::Tensor all_gather(const torch::Tensor& tensor);

  /// A point every rank passes only after rank 0 did: rank 0 marks `name` done in the store and
  /// goes on; the others wait for the mark without the group's timeout (rank 0 may be preparing
  /// data or validating for minutes). A rank 0 that dies still ends the wait at once: its store
  /// closes. `name` must be new for each call (e.g. "valid-1000").
  void wait_for_rank0(const std::string& name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qkv
