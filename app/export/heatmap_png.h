// Heatmap figures as PNG, drawn with cairo (text through fontconfig, "DejaVu Sans"): one or
// more panels of the same shape side by side in a grid (e.g. all heads of one layer), each
// with the row and column tokens as labels, a panel title, one colour scale for the figure
// (white 0 to dark blue 1) and optional masked cells drawn hatched grey. Generic: it knows
// nothing about attention sites (attention_export.cpp builds the figures).
// Sized so that 40 x 40 tokens stay readable (cells >= 13 px, labels >= 9.5 px).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qkv {

struct HeatmapPanel {
  std::string title;      ///< above the panel, e.g. "head 2"
  torch::Tensor weights;  ///< [rows, columns], values in [0, 1]
};

struct HeatmapFigure {
  std::string title;                       ///< first line, bold
  std::vector<std::string> notes;          ///< further lines under the title
  std::vector<std::string> row_labels;     ///< one per row (queries)
  std::vector<std::string> column_labels;  ///< one per column (keys)
  std::vector<HeatmapPanel> panels;        ///< all of the same shape
  torch::Tensor keep_mask;                 ///< bool [rows, columns], false = masked; or undefined
  std::string mask_legend = "masked";      ///< legend text for masked cells
  int64_t panels_per_row = 0;              ///< 0: ceil(sqrt(number of panels))
  /// What the colours measure: the colour bar's label, and the value of a full-colour cell.
  /// Ticks and numbers in cells read weight x scale_max (e.g. head importance in BLEU points).
  std::string scale_label = "weight";
  double scale_max = 1.0;
};

struct ImageSize {
  int width = 0;
  int height = 0;
};

/// The pixel size write_heatmap_png() gives `figure`. Throws std::invalid_argument when the
/// figure has no panels, or panels and labels disagree in shape.
ImageSize heatmap_size(const HeatmapFigure& figure);

/// Where write_heatmap_png() draws cell (`row`, `column`) of panel `panel`: top-left corner and
/// side in pixels. Throws std::out_of_range for indices outside the figure.
struct CellBox {
  double x = 0;
  double y = 0;
  double side = 0;
};
CellBox heatmap_cell(const HeatmapFigure& figure, int64_t panel, int64_t row, int64_t column);

/// Draws `figure` into a PNG file at `path`; returns its size. Throws std::invalid_argument as
/// heatmap_size() and std::runtime_error naming the path when it cannot be written.
ImageSize write_heatmap_png(const std::filesystem::path& path, const HeatmapFigure& figure);

/// Characters of UTF-8 `text` that the label font has no glyph for (they would render as
/// boxes). 0 for German and Cyrillic with fonts-dejavu-core installed.
int64_t missing_glyphs(const std::string& text);

}  // namespace qkv
