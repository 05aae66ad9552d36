// TrainConfig and DecodeConfig: the `train:` and `decode:` sections of an experiment YAML.
// Plain structs; train/experiment_config.cpp parses and validates them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/device.h"
#include "model/precision.h"

namespace qkv {

// Each enum's YAML spelling is its enum_names() table, the only place the names are written
// (train/enum_names.h reads them).

/// train.schedule: the learning-rate curve after warmup (train/schedule.h).
enum class ScheduleKind { kNoam, kConstant, kLinear };
constexpr std::array<std::pair<ScheduleKind, const char*>, 3> enum_names(ScheduleKind) {
  return {{{ScheduleKind::kNoam, "noam"},
           {ScheduleKind::kConstant, "constant"},
           {ScheduleKind::kLinear, "linear"}}};
}

/// train.best_metric: the validation score that decides which checkpoint is "best".
enum class BestMetric { kBleu, kChrf, kLoss };
constexpr std::array<std::pair<BestMetric, const char*>, 3> enum_names(BestMetric) {
  return {{{BestMetric::kBleu, "bleu"}, {BestMetric::kChrf, "chrf"}, {BestMetric::kLoss, "loss"}}};
}

/// decode.length_penalty_type: how hypotheses of different lengths are compared.
enum class LengthPenaltyType { kGnmt, kAverage };
constexpr std::array<std::pair<LengthPenaltyType, const char*>, 2> enum_names(LengthPenaltyType) {
  return {{{LengthPenaltyType::kGnmt, "gnmt"}, {LengthPenaltyType::kAverage, "average"}}};
}

struct TrainConfig {
  int64_t seed = 1;                        // seeds weights, dropout and data order
  DeviceChoice device;                     // auto | cpu | cuda | cuda:N (model/device.h)
  Precision precision = Precision::kFp32;  // auto | fp32 | bf16 (model/precision.h)
  int64_t threads = 0;                     // torch intra-op threads; 0 = qkv's measured default
  int64_t max_steps = 20000;               // stop after this many optimiser steps (0 = no limit)
  int64_t max_epochs = 0;                  // stop after this many epochs (0 = no limit)
  double max_minutes = 0;                  // stop after this much wall time (0 = no limit)
  int64_t max_tokens = 4096;               // token budget of one batch (source or target, padded)
  int64_t accumulate = 1;                  // batches per optimiser step (gradient accumulation)
  ScheduleKind schedule = ScheduleKind::kNoam;  // noam | constant | linear
  double learning_rate = 1e-3;                  // peak learning rate (reached at the end of warmup)
  int64_t warmup_steps = 4000;                  // linear warmup steps
  double label_smoothing = 0.1;                 // label smoothing of the cross-entropy loss
  double clip_norm = 1.0;                       // gradient clipping by global norm (0 = off)
  double adam_beta1 = 0.9;                      // Adam beta1
  double adam_beta2 = 0.98;                     // Adam beta2
  double adam_eps = 1e-9;                       // Adam epsilon
  double weight_decay = 0.0;                    // Adam (L2) weight decay
  int64_t log_every = 100;                      // log a progress line every N steps
  int64_t validate_every = 1000;                // validate (loss, BLEU, chrF) every N steps
  int64_t valid_max_sentences = 500;            // cap on validation sentences decoded for BLEU/chrF
  BestMetric best_metric = BestMetric::kBleu;   // bleu | chrf | loss: which checkpoint is "best"
  int64_t patience = 0;         // stop after N validations without improvement (0 = off)
  int64_t keep_last = 3;        // keep the last N checkpoints (plus the best)
  int64_t dist_timeout_s = 30;  // data-parallel runs: rendezvous and each collective's limit
  std::vector<std::string> probe_sentences;  // sentences whose attention is saved at validation

  /// Calls v(name, member, doc) for every field, in file order (see ModelConfig).
  template <class Visitor>
  void visit_fields(Visitor& v) {
    v("seed", seed, "seeds weights, dropout and data order");
    v("device",
      device,
      "auto | cpu | cuda | cuda:N (auto: CUDA when LibTorch and the machine have it)");
    v("precision",
      precision,
      "auto | fp32 | bf16: bfloat16 for the large matrix products (auto: bf16 where the CPU "
      "has native bf16, fp32 elsewhere)");
    v("threads", threads, "torch intra-op threads; 0 = qkv's measured default for this machine");
    v("max_steps", max_steps, "stop after this many optimiser steps (0 = no limit)");
    v("max_epochs", max_epochs, "stop after this many epochs (0 = no limit)");
    v("max_minutes", max_minutes, "stop after this much wall-clock time (0 = no limit)");
    v("max_tokens", max_tokens, "token budget of one batch (padded tokens)");
    v("accumulate", accumulate, "batches per optimiser step (gradient accumulation)");
    v("schedule", schedule, "noam | constant | linear learning-rate schedule");
    v("learning_rate", learning_rate, "peak learning rate, reached at the end of warmup");
    v("warmup_steps", warmup_steps, "linear warmup steps");
    v("label_smoothing", label_smoothing, "label smoothing of the cross-entropy loss, [0, 1)");
    v("clip_norm", clip_norm, "clip gradients to this global norm (0 = off)");
    v("adam_beta1", adam_beta1, "Adam beta1");
    v("adam_beta2", adam_beta2, "Adam beta2");
    v("adam_eps", adam_eps, "Adam epsilon");
    v("weight_decay", weight_decay, "Adam (L2) weight decay");
    v("log_every", log_every, "log a progress line every N steps");
    v("validate_every", validate_every, "validate (loss, BLEU, chrF) every N steps");
    v("valid_max_sentences", valid_max_sentences, "validation sentences decoded for BLEU/chrF");
    v("best_metric", best_metric, "bleu | chrf | loss: which checkpoint is kept as best");
    v("patience", patience, "stop after N validations without improvement (0 = off)");
    v("keep_last", keep_last, "keep the last N checkpoints, plus the best");
    v("dist_timeout_s",
      dist_timeout_s,
      "data-parallel runs: seconds a rank waits for the others (start, each step) before it "
      "stops with an error naming the lost rank");
    v("probe_sentences",
      probe_sentences,
      "source sentences whose attention is saved at validation");
  }
};

struct DecodeConfig {
  int64_t beam_size = 4;              // 1 = greedy
  double length_penalty_alpha = 0.6;  // YAML length_penalty: the exponent alpha; 0 = none
  LengthPenaltyType length_penalty_type = LengthPenaltyType::kGnmt;  // gnmt | average
  // Output length limit per sentence: floor(a * source tokens + b), a a ratio (may be 1.5).
  double max_length_a = 2.0;
  int64_t max_length_b = 10;

  template <class Visitor>
  void visit_fields(Visitor& v) {
    v("beam_size", beam_size, "beam width; 1 = greedy");
    v("length_penalty", length_penalty_alpha, "length penalty alpha (0 = none)");
    v("length_penalty_type", length_penalty_type, "gnmt: ((5+len)/6)^alpha | average: len^alpha");
    v("max_length_a", max_length_a, "output length limit = floor(a * source tokens + b); a ratio");
    v("max_length_b", max_length_b, "output length limit = a * source tokens + b");
  }
};

}  // namespace qkv
