// The figures of `qkv heads` (see head_figures.h).
#include "app/export/head_figures.h"

#include <fmt/format.h>

#include <algorithm>

namespace qkv {
namespace {

// How much worse the model gets, in the metric's units: positive = the head helped.
double harm(const HeadStudy& study, double importance) {
  return lower_is_better(study.metric) ? importance : -importance;
}

}  // namespace

HeatmapFigure head_heatmap_figure(const HeadStudy& study) {
  const std::string metric = head_metric_label(study.metric);
  const bool loss = study.metric == HeadMetric::kLoss;
  double most = 0;
  for (const auto& head : study.heads) most = std::max(most, harm(study, head.importance));
  const double scale = most > 0 ? most : 1.0;
  std::vector<double> cells;  // study.heads is site-major, heads 0.. within: the row order
  for (const auto& head : study.heads) cells.push_back(harm(study, head.importance) / scale);
  const auto values = torch::tensor(cells, torch::kFloat64)
                          .reshape({static_cast<int64_t>(study.sites.size()), study.num_heads});
  HeatmapFigure figure;
  figure.title = loss ? "Which heads matter: rise of the loss when one head is switched off"
                      : "Which heads matter: " + metric + " drop when one head is switched off";
  figure.notes = {fmt::format("all heads on: {} {:.{}f}", metric, study.full.metric, loss ? 4 : 2),
                  loss ? fmt::format("teacher-forced, {} sentences", study.loss_sentences)
                       : fmt::format("greedy on {} sentences; heads ranked by teacher-forced loss",
                                     study.metric_sentences),
                  "white: no harm (or a gain) when the head is off"};
  figure.row_labels = study.sites;
  for (int64_t h = 0; h < study.num_heads; ++h)
    figure.column_labels.push_back(fmt::format("head {}", h));
  figure.panels = {{"importance", values}};
  figure.panels_per_row = 1;
  figure.scale_label = loss ? "loss rise" : metric + " drop";
  figure.scale_max = scale;
  return figure;
}

void write_head_heatmap(const HeadStudy& study, const std::filesystem::path& path) {
  write_heatmap_png(path, head_heatmap_figure(study));
}

LineChart pruning_chart(const HeadStudy& study) {
  const std::string metric = head_metric_label(study.metric);
  const bool loss = study.metric == HeadMetric::kLoss;
  LineChart chart;
  chart.title = "Heads switched off one by one, least important first (ranked by loss)";
  chart.x_label = "heads switched off";
  LineSeries scores{{}, {}, 0.10, 0.60, 0.25, loss ? "loss (teacher-forced)" : metric};
  LineSeries losses{{}, {}, 0.90, 0.45, 0.10, "loss (right axis)", /*right_axis=*/true};
  for (size_t i = 0; i < study.pruning.size(); ++i) {
    scores.x.push_back(static_cast<double>(i));
    scores.y.push_back(study.pruning[i].score.metric);
    if (loss) continue;
    losses.x.push_back(static_cast<double>(i));
    losses.y.push_back(study.pruning[i].score.loss);
  }
  chart.series = {scores, losses};
  chart.left_decimals = loss ? 2 : 1;
  chart.right_decimals = 2;
  chart.integer_x = true;
  return chart;
}

void write_pruning_curve(const HeadStudy& study, const std::filesystem::path& path) {
  write_line_chart(pruning_chart(study), path);
}

}  // namespace qkv
