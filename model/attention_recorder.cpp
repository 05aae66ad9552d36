// AttentionRecorder: detached copies of attention weights (and optionally Q, K, V, head
// outputs) per site, plus the helper that joins incremental-decoding slices.
#include "model/attention_recorder.h"

#include <stdexcept>

namespace qkv {

AttentionRecorder::AttentionRecorder(AttentionRecorderOptions options) : options_(options) {}

torch::Tensor AttentionRecorder::keep(const torch::Tensor& tensor) const {
  if (!tensor.defined()) {
    return {};
  }
  // clone() so that a record never aliases a buffer the model keeps writing to (KV cache),
  // and never holds on to the autograd graph (detach).
  auto detached = tensor.detach();
  if (options_.to_cpu && !detached.device().is_cpu()) {
    return detached.to(torch::kCPU);
  }
  return detached.clone();
}

void AttentionRecorder::record(const std::string& site, const AttentionRecord& record) {
  TORCH_CHECK(record.weights.defined(), "AttentionRecorder::record: no weights for ", site);
  AttentionRecord kept;
  kept.weights = keep(record.weights);
  if (options_.keep_projections) {
    kept.q = keep(record.q);
    kept.k = keep(record.k);
    kept.v = keep(record.v);
    kept.head_outputs = keep(record.head_outputs);
  }
  records_[site].push_back(std::move(kept));
}

const std::vector<AttentionRecord>& AttentionRecorder::at(const std::string& site) const {
  auto found = records_.find(site);
  if (found == records_.end()) {
    std::string known;
    for (const auto& entry : records_) {
      known += (known.empty() ? "" : ", ") + entry.first;
    }
    throw std::out_of_range("AttentionRecorder: no records for site '" + site +
                            "'; recorded sites: [" + known + "]");
  }
  return found->second;
}

std::vector<std::string> AttentionRecorder::sites() const {
  std::vector<std::string> names;
  names.reserve(records_.size());
  for (const auto& entry : records_) {
    names.push_back(entry.first);
  }
  return names;
}

namespace {

// Concatenates `parts` along `dim`, or returns undefined if the first part is undefined.
torch::Tensor cat_if_defined(const std::vector<torch::Tensor>& parts, int64_t dim) {
  if (parts.empty() || !parts.front().defined()) {
    return {};
  }
  return torch::cat(parts, dim);
}

}  // namespace

AttentionRecord concat_step_records(const std::vector<AttentionRecord>& steps) {
  if (steps.empty()) {
    throw std::invalid_argument("concat_step_records: no step records to join");
  }
  const int64_t total_keys = steps.back().weights.size(-1);
  std::vector<torch::Tensor> weights, queries, head_outputs;
  for (const auto& step : steps) {
    const int64_t keys = step.weights.size(-1);
    if (keys > total_keys || step.weights.dim() != 4) {
      throw std::invalid_argument(
          "concat_step_records: step weights must be [B, H, Tq, Tk] with Tk <= the last step's "
          "Tk (" +
          std::to_string(total_keys) + "), got Tk = " + std::to_string(keys));
    }
    // Keys that did not exist yet at this step get weight 0, as under a causal mask.
    weights.push_back(torch::constant_pad_nd(step.weights, {0, total_keys - keys}));  // [B,H,n,Tk]
    queries.push_back(step.q);
    head_outputs.push_back(step.head_outputs);
  }
  AttentionRecord joined;
  joined.weights = torch::cat(weights, /*dim=*/2);                // [B, H, sum Tq, Tk]
  joined.q = cat_if_defined(queries, /*dim=*/2);                  // [B, H, sum Tq, Dh]
  joined.k = steps.back().k;                                      // [B, H, Tk, Dh]
  joined.v = steps.back().v;                                      // [B, H, Tk, Dh]
  joined.head_outputs = cat_if_defined(head_outputs, /*dim=*/2);  // [B, H, sum Tq, Dh]
  return joined;
}

}  // namespace qkv
