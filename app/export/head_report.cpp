// heads.json and the terminal table of `qkv heads` (see head_report.h).
#include "app/export/head_report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "data/io/atomic_file.h"

namespace qkv {
namespace {

using nlohmann::ordered_json;

constexpr const char* kLayerMeaning =
    "encoder.<l>: every head of its self_attn; decoder.<l>: every head of its self_attn and "
    "cross_attn";

ordered_json scored(const SwitchedOff& unit) {
  return {{"name", unit.name},
          {"loss", unit.score.loss},
          {"metric", unit.score.metric},
          {"importance", unit.importance},
          {"loss_importance", unit.loss_importance}};
}

ordered_json heads_of(const HeadStudy& study) {
  ordered_json heads = ordered_json::array();
  for (const auto& head : study.heads) {
    ordered_json entry = scored(head);
    // One site with one head: the pair the heatmap and --heads-off name.
    entry["site"] = head.mask.heads_off.begin()->first;
    entry["head"] = head.mask.heads_off.begin()->second.front();
    heads.push_back(entry);
  }
  return heads;
}

ordered_json pruning_of(const HeadStudy& study) {
  ordered_json steps = ordered_json::array();
  for (size_t i = 0; i < study.pruning.size(); ++i) {
    const PruningStep& step = study.pruning[i];
    steps.push_back({{"heads_off", i},
                     {"head", step.head.empty() ? ordered_json() : ordered_json(step.head)},
                     {"loss", step.score.loss},
                     {"metric", step.score.metric}});
  }
  return steps;
}

// "+0.12" / "-0.0034": importance with its sign, at the metric's precision.
std::string signed_value(double value, bool loss) {
  return fmt::format(loss ? "{:+.4f}" : "{:+.2f}", value);
}

// Sites x heads (and the whole site) of importance, or of loss importance with `loss`.
std::string grid(const HeadStudy& study, bool loss, const std::string& title) {
  const auto value = [&](const SwitchedOff& unit) {
    return signed_value(loss ? unit.loss_importance : unit.importance,
                        loss || study.metric == HeadMetric::kLoss);
  };
  std::string text = title + "\n" + fmt::format("{:<22}", "site");
  for (int64_t h = 0; h < study.num_heads; ++h)
    text += fmt::format("{:>9}", fmt::format("head {}", h));
  text += fmt::format("{:>11}\n", "site off");
  for (size_t s = 0; s < study.sites.size(); ++s) {
    text += fmt::format("{:<22}", study.sites[s]);
    for (int64_t h = 0; h < study.num_heads; ++h) {
      text += fmt::format(
          "{:>9}",
          value(study.heads[s * static_cast<size_t>(study.num_heads) + static_cast<size_t>(h)]));
    }
    text += fmt::format("{:>11}\n", value(study.sites_off[s]));
  }
  return text;
}

std::string layers_and_pruning(const HeadStudy& study) {
  const std::string metric = head_metric_label(study.metric);
  const bool loss = study.metric == HeadMetric::kLoss;
  std::string text = "\nwhole layer off (" + std::string(kLayerMeaning) + ")\n";
  for (const auto& layer : study.layers_off) {
    text += fmt::format("{:<22}{:>9} {}", layer.name, signed_value(layer.importance, loss), metric);
    if (!loss) text += fmt::format("{:>11} loss", signed_value(layer.loss_importance, true));
    text += "\n";
  }
  text += fmt::format("\npruning curve, least important first\n{:>9}  {:<26}{:>9}{}\n",
                      "heads off",
                      "last head off",
                      metric,
                      loss ? "" : "     loss");
  for (size_t i = 0; i < study.pruning.size(); ++i) {
    const PruningStep& step = study.pruning[i];
    text += fmt::format("{:>9}  {:<26}{:>9.{}f}",
                        i,
                        step.head.empty() ? "(all heads on)" : step.head,
                        step.score.metric,
                        loss ? 4 : 2);
    if (!loss) text += fmt::format("{:>9.4f}", step.score.loss);
    text += "\n";
  }
  return text;
}

}  // namespace

std::string head_study_method(const HeadStudy& study) {
  const std::string ranking = fmt::format(
      "heads ranked by teacher-forced loss on all {} sentences of the split", study.loss_sentences);
  if (study.metric == HeadMetric::kLoss) return ranking;
  return fmt::format("{}; {} by greedy decoding of its first {} sentences",
                     ranking,
                     head_metric_label(study.metric),
                     study.metric_sentences);
}

std::string heads_json(const HeadStudy& study, const HeadStudySource& source) {
  ordered_json j;
  j["run"] = source.run;
  j["checkpoint"] = source.checkpoint;
  j["step"] = source.step;
  j["split"] = source.split;
  j["metric"] = head_metric_name(study.metric);
  j["method"] = head_study_method(study);
  j["importance"] = "metric with the heads off minus metric with every head on";
  j["layer"] = kLayerMeaning;
  j["loss_sentences"] = study.loss_sentences;
  j["metric_sentences"] = study.metric_sentences;
  j["num_heads"] = study.num_heads;
  j["sites"] = study.sites;
  j["full"] = {{"loss", study.full.loss}, {"metric", study.full.metric}};
  j["heads"] = heads_of(study);
  j["sites_off"] = ordered_json::array();
  for (const auto& site : study.sites_off) j["sites_off"].push_back(scored(site));
  j["layers_off"] = ordered_json::array();
  for (const auto& layer : study.layers_off) j["layers_off"].push_back(scored(layer));
  j["pruning"] = pruning_of(study);
  j["seconds"] = source.seconds;
  return j.dump(2);
}

void write_heads_json(const std::filesystem::path& path,
                      const HeadStudy& study,
                      const HeadStudySource& source) {
  write_file_atomically(path, heads_json(study, source) + '\n');
}

std::string heads_table(const HeadStudy& study) {
  const std::string metric = head_metric_label(study.metric);
  const bool loss = study.metric == HeadMetric::kLoss;
  std::string text = head_study_method(study) + "\n";
  text += fmt::format("all heads on: {} {:.{}f}", metric, study.full.metric, loss ? 4 : 2);
  if (!loss) text += fmt::format(", loss {:.4f}", study.full.loss);
  text += "\n\n" + grid(study, false, metric + " with the head off - " + metric + " with all on");
  if (!loss)
    text += "\n" + grid(study, true, "loss with the head off - loss with all on (the ranking)");
  return text + layers_and_pruning(study);
}

}  // namespace qkv
