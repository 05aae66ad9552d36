// Heatmap figures of one sentence's attention sites (built on heatmap_png.h): per site one
// image with every head in a grid and one with the mean over heads, titled with the type,
// layer and head, axes labelled with the subword tokens (rows = queries, columns = keys).
#pragma once

#include <filesystem>
#include <vector>

#include "app/export/heatmap_png.h"
#include "inference/attention_maps.h"

namespace qkv {

/// The figure of `site` of `sentence`: all heads as panels, or (`mean_of_heads`) one panel
/// with their mean. Decoder query rows are labelled "fed token → predicted token".
HeatmapFigure site_figure(const SentenceAttention& sentence,
                          const SiteAttention& site,
                          bool mean_of_heads);

/// Writes <dir>/<site>.png (all heads) and <dir>/<site>.mean.png for every site, creating
/// `dir`. Returns the paths written, in site order.
std::vector<std::filesystem::path> write_attention_pngs(const std::filesystem::path& dir,
                                                        const SentenceAttention& sentence);

}  // namespace qkv
