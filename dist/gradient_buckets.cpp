// Bucketed collectives (see gradient_buckets.h): plan, flatten, one collective per bucket, copy
// the results back into the original tensors.
#include "dist/gradient_buckets.h"

namespace qkv {
namespace {

int64_t bytes_of(const torch::Tensor& tensor) {
  return tensor.numel() * static_cast<int64_t>(tensor.element_size());
}

bool same_kind(const torch::Tensor& a, const torch::Tensor& b) {
  return a.scalar_type() == b.scalar_type() && a.device() == b.device();
}

std::vector<torch::Tensor> pick(const std::vector<torch::Tensor>& tensors,
                                const std::vector<std::size_t>& indices) {
  std::vector<torch::Tensor> picked;
  picked.reserve(indices.size());
  for (const auto index : indices) picked.push_back(tensors[index]);
  return picked;
}

// One contiguous tensor per bucket (a single contiguous tensor is used as it is, no copy).
std::vector<torch::Tensor> flatten_buckets(const std::vector<torch::Tensor>& tensors,
                                           const std::vector<std::vector<std::size_t>>& buckets) {
  std::vector<torch::Tensor> flat;
  flat.reserve(buckets.size());
  for (const auto& bucket : buckets)
    flat.push_back(torch::flatten_dense_tensors(pick(tensors, bucket)));
  return flat;
}

void copy_back(const std::vector<torch::Tensor>& tensors,
               const std::vector<std::vector<std::size_t>>& buckets,
               const std::vector<torch::Tensor>& flat) {
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const auto originals = pick(tensors, buckets[b]);
    const auto pieces = torch::unflatten_dense_tensors(flat[b], originals);
    for (std::size_t i = 0; i < originals.size(); ++i) originals[i].copy_(pieces[i]);
  }
}

// Flattens `tensors` into buckets, runs `collective` on them in place, copies the results back.
template <typename Collective>
void run_in_buckets(const std::vector<torch::Tensor>& tensors,
                    int64_t bucket_bytes,
                    const Collective& collective) {
  torch::NoGradGuard no_grad;  // the copies back are no autograd ops (parameters require grad)
  const auto buckets = plan_buckets(tensors, bucket_bytes);
  const auto flat = flatten_buckets(tensors, buckets);
  collective(flat);
  copy_back(tensors, buckets, flat);
}

}  // namespace

std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<torch::Tensor>& tensors,
                                                   int64_t bucket_bytes) {
  TORCH_CHECK(bucket_bytes > 0, "bucket size must be positive, got ", bucket_bytes, " bytes");
  std::vector<std::vector<std::size_t>> buckets;
  int64_t filled = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    TORCH_CHECK(tensors[i].defined(),
                "tensor ",
                i,
                " is undefined: give a parameter without a gradient zeros, so "
                "that every rank sends the same buckets");
    const int64_t bytes = bytes_of(tensors[i]);
    const bool fits = !buckets.empty() && filled + bytes <= bucket_bytes &&
                      same_kind(tensors[buckets.back().front()], tensors[i]);
    if (!fits) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(i);
    filled += bytes;
  }
  return buckets;
}

void all_reduce_sum_in_buckets(ProcessGroup& group,
                               const std::vector<torch::Tensor>& tensors,
                               int64_t bucket_bytes) {
  run_in_buckets(tensors, bucket_bytes, [&](const auto& flat) { group.all_reduce_sum(flat); });
}

void broadcast_from_rank0_in_buckets(ProcessGroup& group,
                                     const std::vector<torch::Tensor>& tensors,
                                     int64_t bucket_bytes) {
  run_in_buckets(
      tensors, bucket_bytes, [&](const auto& flat) { group.broadcast_from_rank0(flat); });
}

}  // namespace qkv
