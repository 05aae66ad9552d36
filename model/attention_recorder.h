// AttentionRecorder: an opt-in observer that keeps what each attention site computed, so that
// attention can be looked at (heatmaps, Q/K/V exports). It is NOT part of the maths: a model
// without a recorder attached does no extra work (one null-pointer check per attention call).
//
// Sites are named `encoder.{i}.self_attn`, `decoder.{i}.self_attn`, `decoder.{i}.cross_attn`
// (i counts layers from 0). Every call of a site appends one AttentionRecord. During
// incremental decoding each step appends a slice with Tq = 1; concat_step_records() joins the
// slices into the maps a full teacher-forced pass would give.
//
// Glossary: B batch, H heads, Tq query positions, Tk key positions, Dh = d_model / H.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace qkv {

/// What one call of one attention site saw, per head. Recorded tensors are detached copies.
struct AttentionRecord {
  torch::Tensor weights;       ///< [B, H, Tq, Tk] softmax(q k^T / sqrt(Dh)), before dropout
  torch::Tensor q;             ///< [B, H, Tq, Dh] projected queries (only with keep_projections)
  torch::Tensor k;             ///< [B, H, Tk, Dh] projected keys    (only with keep_projections)
  torch::Tensor v;             ///< [B, H, Tk, Dh] projected values  (only with keep_projections)
  torch::Tensor head_outputs;  ///< [B, H, Tq, Dh] weights @ v of each head, before the heads
                               ///< are merged and projected (only with keep_projections)
};

struct AttentionRecorderOptions {
  bool keep_projections = false;  ///< also keep q, k, v and the per-head outputs
  bool to_cpu = true;             ///< copy records to the CPU (false: keep them on the device)
};

/// Collects AttentionRecords per site. Not thread-safe: one recorder per model per thread.
class AttentionRecorder {
 public:
  explicit AttentionRecorder(AttentionRecorderOptions options = {});

  /// True when q, k, v and head outputs are kept (attention modules skip nothing otherwise).
  bool keeps_projections() const { return options_.keep_projections; }

  /// Appends a detached copy of `record` to `site`. `record.weights` must be defined; the
  /// projections are copied only when keeps_projections(). Called by MultiHeadAttention.
  void record(const std::string& site, const AttentionRecord& record);

  /// All records, by site name; each vector is in call order.
  const std::map<std::string, std::vector<AttentionRecord>>& records() const { return records_; }

  /// Records of one site. Throws std::out_of_range listing the recorded sites if absent.
  const std::vector<AttentionRecord>& at(const std::string& site) const;

  /// Names of the sites that have records, sorted.
  std::vector<std::string> sites() const;

  void clear() { records_.clear(); }

 private:
  torch::Tensor keep(const torch::Tensor& tensor) const;

  AttentionRecorderOptions options_;
  std::map<std::string, std::vector<AttentionRecord>> records_;
};

/// Joins the per-step records of one site from incremental decoding into one record, as a
/// full pass over the same tokens would have recorded it:
///   weights      [B, H, sum Tq, Tk_last]: earlier steps saw fewer keys (decoder self-attention),
///                their rows are padded on the right with zeros (the causal mask's zeros);
///   q, head_outputs concatenated along Tq; k, v taken from the last step (they hold all keys).
/// Throws std::invalid_argument if `steps` is empty or the shapes do not line up.
AttentionRecord concat_step_records(const std::vector<AttentionRecord>& steps);

}  // namespace qkv
