// The figures of `qkv heads` (train/head_importance.h) as PNG: a sites x heads heatmap of how
// much each head matters (heatmap_png.h), and the pruning curve (line_plot.h), in the style of
// the attention maps and the training curves.
#pragma once

#include <filesystem>

#include "app/export/heatmap_png.h"
#include "app/export/line_plot.h"
#include "train/head_importance.h"

namespace qkv {

/// Sites as rows, heads as columns, coloured by the harm of switching the head off alone
/// (the metric's drop, or the loss's rise) over the largest harm, white for none or a gain.
HeatmapFigure head_heatmap_figure(const HeadStudy& study);

/// head_heatmap_figure() as a PNG. Throws std::runtime_error naming the path when it cannot
/// be written.
void write_head_heatmap(const HeadStudy& study, const std::filesystem::path& path);

/// The metric (and for BLEU/chrF the loss, on the right axis) against the number of heads
/// switched off, least important first.
LineChart pruning_chart(const HeadStudy& study);

/// pruning_chart() as a PNG. Throws like write_head_heatmap.
void write_pruning_curve(const HeadStudy& study, const std::filesystem::path& path);

}  // namespace qkv
