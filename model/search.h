// Search: batched greedy and beam search over the Transformer's KV-cached decode_step().
// No I/O and no tokenizer: token ids in, token ids and scores out. The caller puts the model in
// eval mode (model->eval()); search runs under torch::NoGradGuard.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "model/transformer.h"

namespace qkv {

/// How hypotheses of different lengths are compared (len = generated tokens, EOS included).
enum class LengthPenalty {
  kNone,     ///< rank by the sum of log-probabilities
  kGnmt,     ///< divide by ((5 + len) / 6)^alpha (Wu et al. 2016, GNMT)
  kAverage,  ///< divide by len^alpha (alpha = 1: mean log-probability per token)
};

struct SearchOptions {
  int64_t bos_id = 2;     ///< fed first to the decoder
  int64_t eos_id = 3;     ///< ends a hypothesis
  int64_t pad_id = 0;     ///< source padding
  int64_t beam_size = 1;  ///< 1 = greedy search
  int64_t n_best = 1;     ///< hypotheses returned per sentence, 1 <= n_best <= beam_size
  LengthPenalty length_penalty_type = LengthPenalty::kGnmt;  ///< the kind; alpha below
  double length_penalty_alpha = 0.0;  ///< 0 disables the penalty whatever its kind
  /// Output length limit per sentence, in tokens before EOS:
  ///   min(max_length, floor(max_length_ratio * source_length + max_length_offset)),
  /// and never more than the model's max_positions allow. A hypothesis that reaches it
  /// without EOS is returned with finished = false.
  double max_length_ratio = 2.0;
  int64_t max_length_offset = 10;
  int64_t max_length = 256;
};

/// Throws std::invalid_argument naming the field if `options` cannot be searched with.
void validate_search_options(const SearchOptions& options);

/// One output sequence.
struct Hypothesis {
  std::vector<int64_t> tokens;    ///< generated ids, without BOS and without the final EOS
  double score = 0.0;             ///< sum of token log-probabilities (EOS included if finished)
  double normalized_score = 0.0;  ///< score / length penalty: what hypotheses are ranked by
  bool finished = false;          ///< ended with EOS (false: stopped by the length limit)
};

/// Per source sentence, its n_best hypotheses sorted by normalized_score, best first.
using SearchResult = std::vector<std::vector<Hypothesis>>;

/// Length penalty lp(len) for `options` (1 when alpha = 0 or kind = kNone).
double length_penalty(int64_t length, const SearchOptions& options);

/// Output length limit of a sentence with `source_length` real tokens (see SearchOptions).
int64_t max_output_length(int64_t source_length,
                          int64_t max_positions,
                          const SearchOptions& options);

/// Batched greedy search: the most likely next token at every step, KV-cached. src int64
/// [B, S] (padded with pad_id). Returns B lists of one hypothesis. One host sync per step
/// (to stop when every sentence has ended).
SearchResult greedy_search(TransformerImpl& model,
                           const torch::Tensor& src,
                           const SearchOptions& options);

/// Batched beam search: keeps beam_size hypotheses per sentence, reorders the KV cache by
/// beam parent each step; a sentence ends when beam_size hypotheses ended with EOS or at its
/// length limit. beam_size 1 gives the greedy result. Returns B lists of n_best hypotheses
/// (fewer only if fewer than n_best hypotheses had a finite score).
SearchResult beam_search(TransformerImpl& model,
                         const torch::Tensor& src,
                         const SearchOptions& options);

/// greedy_search when beam_size == 1, else beam_search.
SearchResult search(TransformerImpl& model, const torch::Tensor& src, const SearchOptions& options);

}  // namespace qkv
