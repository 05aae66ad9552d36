// Gradients (or parameters) summed or broadcast over the group in a few large, contiguous
// buckets instead of one collective per tensor: the model has dozens of small tensors, and each
// collective pays a round trip. The same idea as torch DDP's Reducer, on LibTorch's own
// flatten_dense_tensors / unflatten_dense_tensors.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dist/process_group.h"

namespace qkv {

/// Bucket size cap: 25 MiB, torch DDP's default bucket_cap_mb.
constexpr int64_t kDefaultBucketBytes = int64_t{25} * 1024 * 1024;

/// Splits `tensors` into buckets of consecutive tensors with the same dtype and device whose
/// bytes add up to at most `bucket_bytes` (a larger tensor is a bucket on its own). Returns the
/// tensors' indices, bucket by bucket, in order. Every tensor must be defined: a parameter without
/// a gradient must get zeros first, so that every rank sends the same buckets.
std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<torch::Tensor>& tensors,
                                                   int64_t bucket_bytes);

/// Sums every tensor over all ranks, in place (gradients after backward(); the trainer then
/// divides by the group's token count). Every rank passes the same shapes and dtypes in the same
/// order. Tensors may be non-contiguous. Throws as ProcessGroup::all_reduce_sum.
void all_reduce_sum_in_buckets(ProcessGroup& group,
                               const std::vector<torch::Tensor>& tensors,
                               int64_t bucket_bytes = kDefaultBucketBytes);

/// Overwrites every tensor with rank 0's values, in place, also parameters that require grad
/// (the copy is not recorded by autograd): every rank starts from the same weights.
void broadcast_from_rank0_in_buckets(ProcessGroup& group,
                                     const std::vector<torch::Tensor>& tensors,
                                     int64_t bucket_bytes = kDefaultBucketBytes);

}  // namespace qkv
