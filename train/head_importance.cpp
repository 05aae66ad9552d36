// Head importance and the pruning curve (see head_importance.h). Steps: 1. encode the split
// once and take the BLEU/chrF sample, 2. score the full model, 3. one head, one site, one
// layer off at a time, 4. heads off cumulatively in ascending loss importance.
#include "train/head_importance.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "data/dataset.h"
#include "train/validation.h"

namespace qkv {
namespace {

// Scores head masks with validate(): the loss on every example, BLEU/chrF on the sample.
class MaskScorer {
 public:
  MaskScorer(Translator& translator,
             const std::vector<SentencePair>& pairs,
             const HeadStudyOptions& options)
      : translator_(translator), options_(options) {
    // As the trainer encodes its validation set: positions bound the length, nothing else.
    const int64_t max_length = translator.model()->config().max_positions - 2;
    examples_ = encode_corpus(pairs, translator.tokenizer(), max_length).examples;
    if (options.metric != HeadMetric::kLoss) {
      const auto count = std::min<size_t>(static_cast<size_t>(options.sentences), pairs.size());
      sample_.assign(pairs.begin(), pairs.begin() + static_cast<std::ptrdiff_t>(count));
    }
  }

  HeadScore score(const HeadMask& mask) {
    HeadMaskScope off(translator_.model(), mask);
    const ValidationResult v = validate(
        translator_, examples_, sample_, static_cast<int64_t>(sample_.size()), options_.max_tokens);
    switch (options_.metric) {
      case HeadMetric::kBleu:
        return {v.loss, v.bleu};
      case HeadMetric::kChrf:
        return {v.loss, v.chrf};
      case HeadMetric::kLoss:
        break;
    }
    return {v.loss, v.loss};
  }

  int64_t loss_sentences() const { return static_cast<int64_t>(examples_.size()); }
  int64_t metric_sentences() const { return static_cast<int64_t>(sample_.size()); }

 private:
  Translator& translator_;
  HeadStudyOptions options_;
  std::vector<Example> examples_;
  std::vector<SentencePair> sample_;
};

std::vector<int64_t> all_heads(int64_t num_heads) {
  std::vector<int64_t> heads(static_cast<size_t>(num_heads));
  for (int64_t h = 0; h < num_heads; ++h) heads[static_cast<size_t>(h)] = h;
  return heads;
}

// Every single head, then every whole site, then every layer (all its sites), as masks.
struct Units {
  std::vector<std::pair<std::string, HeadMask>> heads, sites, layers;
};

Units units_of(const ModelConfig& config) {
  Units units;
  for (const auto& site : attention_sites(config)) {
    for (int64_t h = 0; h < config.num_heads; ++h) {
      units.heads.push_back({site + ":" + std::to_string(h), HeadMask{{{site, {h}}}}});
    }
    units.sites.push_back({site, HeadMask{{{site, all_heads(config.num_heads)}}}});
  }
  for (int64_t l = 0; l < config.encoder_layers; ++l) {
    const std::string layer = "encoder." + std::to_string(l);
    units.layers.push_back(
        {layer, HeadMask{{{layer + ".self_attn", all_heads(config.num_heads)}}}});
  }
  for (int64_t l = 0; l < config.decoder_layers; ++l) {
    const std::string layer = "decoder." + std::to_string(l);
    units.layers.push_back({layer,
                            HeadMask{{{layer + ".self_attn", all_heads(config.num_heads)},
                                      {layer + ".cross_attn", all_heads(config.num_heads)}}}});
  }
  return units;
}

std::vector<SwitchedOff> score_units(MaskScorer& scorer,
                                     const std::vector<std::pair<std::string, HeadMask>>& units,
                                     const HeadScore& full,
                                     const char* what) {
  spdlog::info("[heads] {} {} off, one at a time", units.size(), what);
  std::vector<SwitchedOff> scored;
  for (const auto& [name, mask] : units) {
    const HeadScore score = scorer.score(mask);
    spdlog::debug("[heads] {} off: loss {:.4f}, metric {:.4f}", name, score.loss, score.metric);
    scored.push_back({name, mask, score, score.metric - full.metric, score.loss - full.loss});
  }
  return scored;
}

// Heads off one by one in ascending loss importance (stable: ties keep site and head order).
std::vector<PruningStep> prune(MaskScorer& scorer,
                               const std::vector<SwitchedOff>& heads,
                               const HeadScore& full) {
  std::vector<const SwitchedOff*> order;
  for (const auto& head : heads) order.push_back(&head);
  std::stable_sort(order.begin(), order.end(), [](const SwitchedOff* a, const SwitchedOff* b) {
    return a->loss_importance < b->loss_importance;
  });
  spdlog::info("[heads] pruning curve: {} heads off one by one, least important first",
               order.size());
  std::vector<PruningStep> steps{{"", full}};
  HeadMask off;
  for (const SwitchedOff* head : order) {
    for (const auto& [site, indices] : head->mask.heads_off) {
      auto& all = off.heads_off[site];
      all.insert(all.end(), indices.begin(), indices.end());
      std::sort(all.begin(), all.end());
    }
    steps.push_back({head->name, scorer.score(off)});
  }
  return steps;
}

}  // namespace

HeadMetric parse_head_metric(const std::string& name) {
  for (auto metric : {HeadMetric::kBleu, HeadMetric::kChrf, HeadMetric::kLoss}) {
    if (name == head_metric_name(metric)) return metric;
  }
  throw std::invalid_argument("--metric: '" + name + "' is not one of: bleu, chrf, loss");
}

void check_head_study_options(const HeadStudyOptions& options) {
  if (options.sentences < 1) {
    throw std::invalid_argument("--sentences: must be at least 1, got " +
                                std::to_string(options.sentences));
  }
}

std::vector<std::string> attention_sites(const ModelConfig& config) {
  std::vector<std::string> sites;
  for (int64_t l = 0; l < config.encoder_layers; ++l) {
    sites.push_back("encoder." + std::to_string(l) + ".self_attn");
  }
  for (int64_t l = 0; l < config.decoder_layers; ++l) {
    sites.push_back("decoder." + std::to_string(l) + ".self_attn");
    sites.push_back("decoder." + std::to_string(l) + ".cross_attn");
  }
  return sites;
}

HeadStudy study_heads(Translator& translator,
                      const std::vector<SentencePair>& pairs,
                      const HeadStudyOptions& options) {
  check_head_study_options(options);
  if (pairs.empty()) throw std::invalid_argument("head importance: the split has no sentences");
  const ModelConfig& config = translator.model()->config();
  MaskScorer scorer(translator, pairs, options);
  HeadStudy study;
  study.metric = options.metric;
  study.loss_sentences = scorer.loss_sentences();
  study.metric_sentences = scorer.metric_sentences();
  study.sites = attention_sites(config);
  study.num_heads = config.num_heads;
  study.full = scorer.score(HeadMask{});
  const Units units = units_of(config);
  study.heads = score_units(scorer, units.heads, study.full, "heads");
  study.sites_off = score_units(scorer, units.sites, study.full, "sites");
  study.layers_off = score_units(scorer, units.layers, study.full, "layers");
  study.pruning = prune(scorer, study.heads, study.full);
  return study;
}

}  // namespace qkv
