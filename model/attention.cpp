// Scaled dot-product attention (a small pure function) and the multi-head module around it.
// attend() is the reference maths; when the fused kernels are enabled it hands the same
// computation to kernels/attention_kernel.h in one call. Not here: mask construction
// (masks.cpp), recording storage (attention_recorder.cpp).
#include "model/attention.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "model/attention_recorder.h"
#include "model/dropout.h"
#include "model/kernels/attention_kernel.h"
#include "model/kernels/dispatch.h"
#include "model/torch_compat.h"

namespace qkv {

// softmax(q k^T / sqrt(Dh)), masked where keep_mask is false.
torch::Tensor attention_weights(const torch::Tensor& q,
                                const torch::Tensor& k,
                                const torch::Tensor& keep_mask) {
  // 1/sqrt(Dh) keeps the dot products at unit variance, so softmax does not saturate.
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = torch::matmul(q, k.transpose(-2, -1)).mul_(scale);  // [B, H, Tq, Tk]
  if (keep_mask.defined()) {
    // -inf (not -1e9) gives exact zeros after softmax, and a NaN row if nothing is kept.
    scores.masked_fill_(keep_mask.logical_not(), -std::numeric_limits<double>::infinity());
  }
  return torch::softmax(scores, /*dim=*/-1);  // [B, H, Tq, Tk]
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(const MultiHeadAttentionOptions& options)
    : options_(options) {
  if (options.d_model <= 0 || options.num_heads <= 0 || options.d_model % options.num_heads) {
    throw std::invalid_argument("MultiHeadAttention: num_heads " +
                                std::to_string(options.num_heads) + " must divide d_model " +
                                std::to_string(options.d_model) + " (both > 0)");
  }
  const int64_t d = options.d_model;
  query_proj_ = register_module("query_proj", Linear(d, d));
  key_proj_ = register_module("key_proj", Linear(d, d));
  value_proj_ = register_module("value_proj", Linear(d, d));
  output_proj_ = register_module("output_proj", Linear(d, d));
}

void MultiHeadAttentionImpl::set_recorder(AttentionRecorder* recorder, std::string site) {
  recorder_ = recorder;
  site_ = std::move(site);
}

void MultiHeadAttentionImpl::set_heads_off(const std::vector<int64_t>& heads) {
  if (heads.empty()) {
    heads_off_ = torch::Tensor();
    return;
  }
  auto off = torch::zeros({options_.num_heads}, torch::kBool);  // [H]
  for (int64_t head : heads) {
    if (head < 0 || head >= options_.num_heads) {
      throw std::invalid_argument("MultiHeadAttention: head " + std::to_string(head) +
                                  " is out of range [0, " + std::to_string(options_.num_heads) +
                                  ")");
    }
    off[head] = true;
  }
  heads_off_ = off.to(output_proj_->weight.device());
}

torch::Tensor MultiHeadAttentionImpl::switch_off_heads(const torch::Tensor& x,
                                                       int64_t head_dim) const {
  if (!heads_off_.defined()) return x;
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[static_cast<size_t>(head_dim)] = options_.num_heads;
  // masked_fill, not a multiply: exact zeros whatever the dtype, even where a head gave NaN.
  return x.masked_fill(heads_off_.view(shape), 0.0);
}

torch::Tensor MultiHeadAttentionImpl::split_heads(const torch::Tensor& x) const {
  const int64_t heads = options_.num_heads;
  return x
      .view({x.size(0), x.size(1), heads, x.size(2) / heads})  // [B, T, H, Dh]
      .transpose(1, 2);                                        // [B, H, T, Dh]
}

torch::Tensor MultiHeadAttentionImpl::merge_heads(const torch::Tensor& x) const {
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), options_.d_model});  // [B, T, D]
}

torch::Tensor MultiHeadAttentionImpl::project_query(const torch::Tensor& query) {
  return split_heads(query_proj_(query));  // [B, Tq, D] -> [B, H, Tq, Dh]
}

KeyValue MultiHeadAttentionImpl::project_key_value(const torch::Tensor& key,
                                                   const torch::Tensor& value) {
  TORCH_CHECK(key.dim() == 3 && key.size(-1) == options_.d_model && key.sizes() == value.sizes(),
              "MultiHeadAttention: key and value must be [B, Tk, ",
              options_.d_model,
              "], got ",
              key.sizes(),
              " and ",
              value.sizes());
  if (options_.fuse_projections && key.is_same(value)) {
    // One GEMM against [W_k; W_v] instead of two; chunk() returns views, no copies.
    auto kv =
        (packed_kv_ ? (*packed_kv_)(key) : dense(key, stacked_weight(false), stacked_bias(false)))
            .chunk(2, /*dim=*/-1);                    // 2 x [B, Tk, D]
    return {split_heads(kv[0]), split_heads(kv[1])};  // [B, H, Tk, Dh]
  }
  return {split_heads(key_proj_(key)), split_heads(value_proj_(value))};  // [B, H, Tk, Dh]
}

std::pair<torch::Tensor, KeyValue> MultiHeadAttentionImpl::project_self(const torch::Tensor& x) {
  if (!options_.fuse_projections) {
    return {project_query(x), project_key_value(x, x)};
  }
  // One GEMM against [W_q; W_k; W_v] instead of three; chunk() returns views, no copies.
  auto qkv = (packed_qkv_ ? (*packed_qkv_)(x) : dense(x, stacked_weight(true), stacked_bias(true)))
                 .chunk(3, /*dim=*/-1);                                      // 3 x [B, T, D]
  return {split_heads(qkv[0]), {split_heads(qkv[1]), split_heads(qkv[2])}};  // [B, H, T, Dh]
}

torch::Tensor MultiHeadAttentionImpl::stacked_weight(bool with_query) const {
  if (!with_query) return torch::cat({key_proj_->weight, value_proj_->weight});      // [2D, D]
  return torch::cat({query_proj_->weight, key_proj_->weight, value_proj_->weight});  // [3D, D]
}

torch::Tensor MultiHeadAttentionImpl::stacked_bias(bool with_query) const {
  if (!with_query) return torch::cat({key_proj_->bias, value_proj_->bias});    // [2D]
  return torch::cat({query_proj_->bias, key_proj_->bias, value_proj_->bias});  // [3D]
}

void MultiHeadAttentionImpl::pack_fused_projections(Precision precision) {
  torch::NoGradGuard no_grad;
  packed_qkv_.emplace(stacked_weight(true), stacked_bias(true), precision);
  packed_kv_.emplace(stacked_weight(false), stacked_bias(false), precision);
  packed_low_precision_ = precision != Precision::kFp32;
}

void MultiHeadAttentionImpl::unpack_fused_projections() {
  packed_qkv_.reset();
  packed_kv_.reset();
  packed_low_precision_ = false;
}

torch::ScalarType MultiHeadAttentionImpl::cache_dtype() const {
  const bool bf16 = packed_low_precision_ && output_proj_->weight.device().is_cpu() &&
                    has_avx512() && fused_enabled();
  return bf16 ? torch::kBFloat16 : torch::kFloat32;
}

namespace {

// Inputs are [B, T, D]: a wrong rank or width would otherwise fail deep inside a matmul.
// `expected` names the tensor and its shape up to D, e.g. "query must be [B, Tq, ".
void check_width(const torch::Tensor& x, const char* expected, int64_t d_model) {
  TORCH_CHECK(x.dim() == 3 && x.size(-1) == d_model,
              "MultiHeadAttention: ",
              expected,
              d_model,
              "], got ",
              x.sizes());
}

}  // namespace

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& query,
                                              const torch::Tensor& key,
                                              const torch::Tensor& value,
                                              const torch::Tensor& keep_mask) {
  check_width(query, "query must be [B, Tq, ", options_.d_model);
  TORCH_CHECK(key.size(0) == query.size(0),
              "MultiHeadAttention: query and key batch sizes differ: ",
              query.sizes(),
              " vs ",
              key.sizes());
  if (query.is_same(key) && key.is_same(value)) {
    auto [q, kv] = project_self(query);  // [B, H, T, Dh] each
    return attend(q, kv, keep_mask);
  }
  return attend(project_query(query), project_key_value(key, value), keep_mask);
}

torch::Tensor MultiHeadAttentionImpl::forward_projected(const torch::Tensor& query,
                                                        const KeyValue& memory,
                                                        const torch::Tensor& keep_mask) {
  check_width(query, "query must be [B, Tq, ", options_.d_model);
  return attend(project_query(query), memory, keep_mask);
}

torch::Tensor MultiHeadAttentionImpl::forward_cached(const torch::Tensor& x,
                                                     KeyValueCache& cache,
                                                     const torch::Tensor& keep_mask) {
  check_width(x, "x must be [B, n, ", options_.d_model);
  auto [q, fresh] = project_self(x);                            // [B, H, n, Dh] each
  return attend(q, cache.append(fresh.k, fresh.v), keep_mask);  // [B, n, D]
}

torch::Tensor MultiHeadAttentionImpl::attend(const torch::Tensor& q,
                                             const KeyValue& kv,
                                             const torch::Tensor& keep_mask) {
  // The definition: weights, dropout on them, weighted sum of the values, heads merged and
  // projected. With the fused kernels enabled the same runs as one kernel (the last line).
  if (!fused_enabled() || !attention_kernel_supports(q, kv.k, kv.v)) {
    // Keys and values cached in bf16 (cache_dtype()) meet the reference maths in float32.
    if (kv.k.scalar_type() != q.scalar_type()) return attend(q, kv.to(q.scalar_type()), keep_mask);
    // With no map to record, LibTorch 2.x runs the same maths as one op (flash kernels on GPUs).
    if (recorder_ == nullptr) {
      const double p = is_training() ? options_.dropout : 0.0;
      if (auto out = torch_compat::scaled_dot_product_attention(q, kv.k, kv.v, keep_mask, p)) {
        return output_proj_(merge_heads(switch_off_heads(*out, /*head_dim=*/1)));  // [B, Tq, D]
      }
    }
    auto weights = attention_weights(q, kv.k, keep_mask);  // [B, H, Tq, Tk]
    auto dropped = apply_dropout(weights, options_.dropout, is_training());
    auto head_outputs =
        switch_off_heads(torch::matmul(dropped, kv.v), /*head_dim=*/1);  // [B, H, Tq, Dh]
    if (recorder_ != nullptr) {
      recorder_->record(site_, {weights, q, kv.k, kv.v, head_outputs});
    }
    return output_proj_(merge_heads(head_outputs));  // [B, Tq, D]
  }
  return attend_fused(q, kv, keep_mask);  // the same maths in one kernel per (sentence, head)
}

torch::Tensor MultiHeadAttentionImpl::attend_fused(const torch::Tensor& q,
                                                   const KeyValue& kv,
                                                   const torch::Tensor& keep_mask) {
  torch::Tensor weights;
  auto merged = attention_kernel(q,
                                 kv.k,
                                 kv.v,
                                 keep_mask,
                                 options_.dropout,
                                 is_training(),
                                 recorder_ != nullptr ? &weights : nullptr);  // [B, Tq, D]
  if (heads_off_.defined()) {
    const auto shape = merged.sizes().vec();
    merged = switch_off_heads(merged.view({q.size(0), q.size(2), q.size(1), q.size(3)}),
                              /*head_dim=*/2)  // [B, Tq, H, Dh]
                 .view(shape);                 // [B, Tq, D]
  }
  if (recorder_ != nullptr) {
    auto head_outputs = merged.view({q.size(0), q.size(2), q.size(1), q.size(3)})
                            .transpose(1, 2);    // [B, H, Tq, Dh]
    const auto stored = kv.to(torch::kFloat32);  // the cached bf16 rows, widened
    recorder_->record(site_, {weights, q, stored.k, stored.v, head_outputs});
  }
  return output_proj_(merged);  // [B, Tq, D]
}

}  // namespace qkv
