// Which heads matter (issue 20, after Michel, Levy and Neubig 2019, "Are Sixteen Heads Really
// Better than One?"): every head, every site and every layer switched off in turn
// (model/head_mask.h) and scored with the validation metrics of train/validation.h, then the
// heads switched off one by one, least important first: the pruning curve.
//
// Cost: one teacher-forced loss pass over the whole split per configuration (cheap), plus,
// for BLEU or chrF, greedy translation of the first `sentences` pairs. Heads are always ranked
// by the loss, which sees every sentence; BLEU/chrF on a sample are too coarse to order 36
// heads. This file computes; app/export/head_report.h and head_figures.h present.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/parallel_corpus.h"
#include "inference/translator.h"
#include "model/config.h"
#include "model/head_mask.h"

namespace qkv {

enum class HeadMetric { kBleu, kChrf, kLoss };

/// "bleu", "chrf" or "loss" -> the metric. Throws std::invalid_argument
/// "--metric: 'x' is not one of: bleu, chrf, loss".
HeadMetric parse_head_metric(const std::string& name);

// Inline, so that the writers of app/export read a HeadStudy without linking the trainer.
/// "bleu", "chrf", "loss": as --metric and heads.json spell it.
inline const char* head_metric_name(HeadMetric metric) {
  return metric == HeadMetric::kBleu ? "bleu" : metric == HeadMetric::kChrf ? "chrf" : "loss";
}
/// "BLEU", "chrF", "loss": for tables and figures.
inline const char* head_metric_label(HeadMetric metric) {
  return metric == HeadMetric::kBleu ? "BLEU" : metric == HeadMetric::kChrf ? "chrF" : "loss";
}
/// True for loss (lower is better), false for BLEU and chrF.
inline bool lower_is_better(HeadMetric metric) { return metric == HeadMetric::kLoss; }

struct HeadStudyOptions {
  HeadMetric metric = HeadMetric::kBleu;
  int64_t sentences = 200;    ///< BLEU/chrF: the first this many pairs, greedy; >= 1
  int64_t max_tokens = 4096;  ///< batch budget in tokens, as validation's
};

/// Throws std::invalid_argument "--sentences: must be at least 1, got 0" for sentences < 1.
/// study_heads() checks this too; the CLI calls it first, before loading the run.
void check_head_study_options(const HeadStudyOptions& options);

struct HeadScore {
  double loss = 0;    ///< teacher-forced cross-entropy per target token, whole split (nats)
  double metric = 0;  ///< the chosen metric (the loss again for HeadMetric::kLoss)
};

/// One configuration: some heads switched off, its score, and its importance.
struct SwitchedOff {
  std::string name;  ///< "decoder.0.cross_attn:1", "decoder.0.cross_attn" or "decoder.0"
  HeadMask mask;
  HeadScore score;
  double importance = 0;       ///< score.metric - the full model's metric
  double loss_importance = 0;  ///< score.loss - the full model's loss: the ranking
};

/// One point of the pruning curve.
struct PruningStep {
  std::string head;  ///< the head switched off at this step ("" for the full model)
  HeadScore score;   ///< with this and every earlier head off
};

struct HeadStudy {
  HeadMetric metric = HeadMetric::kLoss;
  int64_t loss_sentences = 0;      ///< examples in the loss (pairs that encode within positions)
  int64_t metric_sentences = 0;    ///< pairs translated for BLEU/chrF (0 for loss)
  std::vector<std::string> sites;  ///< attention_sites() of the model
  int64_t num_heads = 0;
  HeadScore full;                       ///< every head on
  std::vector<SwitchedOff> heads;       ///< one head off; sites in order, heads 0.. within
  std::vector<SwitchedOff> sites_off;   ///< all heads of one site off
  std::vector<SwitchedOff> layers_off;  ///< all heads of every site of one layer off
  std::vector<PruningStep> pruning;     ///< heads.size() + 1 points, the full model first
};

/// "encoder.0.self_attn", ..., "decoder.0.self_attn", "decoder.0.cross_attn", ...: the sites
/// of a model of `config`, encoder first, in layer order.
std::vector<std::string> attention_sites(const ModelConfig& config);

/// Scores the translator's model with every head on, each head off, each site off, each layer
/// off (encoder.<l>: its self_attn; decoder.<l>: its self_attn and cross_attn), then along the
/// pruning curve in ascending loss_importance (ties: site order, then head). `pairs` are the
/// split (the loss uses all that fit max_positions). Leaves the model's head mask as it was.
/// Throws std::invalid_argument for sentences < 1 or no pairs.
HeadStudy study_heads(Translator& translator,
                      const std::vector<SentencePair>& pairs,
                      const HeadStudyOptions& options);

}  // namespace qkv
