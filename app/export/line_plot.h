// Line charts as PNG, drawn with cairo: a few series against one x axis, a left axis and an
// optional right one (both start at 0), ticks, a title and a legend. Generic: the training
// curves (loss_plot.cpp) and the head-pruning curve (head_figures.cpp) are built on it.
// Includes no cairo header, so that public headers may use its structs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace qkv {

struct LineSeries {
  std::vector<double> x, y;    ///< points; values that are not finite are the caller's to drop
  double r = 0, g = 0, b = 0;  ///< line colour, each in [0, 1]
  std::string label;           ///< legend text
  bool right_axis = false;     ///< read against the right axis
  double line_width = 2.0;
  bool dots = true;  ///< a dot on every point
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::vector<LineSeries> series;  ///< empty ones are skipped (no legend entry)
  int left_decimals = 2;           ///< tick labels of the left axis
  int right_decimals = 1;          ///< and of the right one
  bool integer_x = false;          ///< x counts things: ticks at whole numbers only
};

/// Draws `chart` into a `width` x `height` PNG at `path` (the right axis only when a series
/// uses it). Throws std::runtime_error when the file cannot be written.
void write_line_chart(const LineChart& chart,
                      const std::filesystem::path& path,
                      int width = 900,
                      int height = 500);

}  // namespace qkv
