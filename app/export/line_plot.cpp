// Line charts (see line_plot.h). Steps: 1. the axis ranges (each from 0), 2. frame, ticks and
// titles, 3. each series with its legend entry, 4. the file.
#include "app/export/line_plot.h"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "app/export/cairo_drawing.h"

namespace qkv {
namespace {

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool empty() const { return low > high; }
  void pad() {
    if (empty()) low = 0, high = 1;
    if (high - low < 1e-9) high = low + 1;
  }
  double at(double fraction) const { return low + fraction * (high - low); }
};

// The plot area and its three axes: x across, the left and right value axes.
struct Plot {
  cairo_t* cr;
  double left, right, top, bottom;
  Range x_range, left_range, right_range;
  bool with_right = false;

  double x(double v) const {
    return left + (v - x_range.low) / (x_range.high - x_range.low) * (right - left);
  }
  double y(double v, const Range& range) const {
    return bottom - (v - range.low) / (range.high - range.low) * (bottom - top);
  }
  // `s` with its baseline at y, `align` 0 = starts at x, 0.5 = centred, 1 = ends at x.
  void text(double x, double y, const std::string& s, double align) const {
    cairo_text_extents_t extents;
    cairo_text_extents(cr, s.c_str(), &extents);
    cairo_move_to(cr, x - align * extents.width, y);
    cairo_show_text(cr, s.c_str());
  }
};

// Value axes include 0, so that a curve's height reads as its size.
Plot plot_of(cairo_t* cr, const LineChart& chart, int width, int height) {
  Plot plot{cr, 60, width - 60.0, 40, height - 50.0, {}, {}, {}};
  for (const auto& s : chart.series) {
    for (double v : s.x) plot.x_range.add(v);
    for (double v : s.y) (s.right_axis ? plot.right_range : plot.left_range).add(v);
    plot.with_right = plot.with_right || (s.right_axis && !s.y.empty());
  }
  plot.x_range.pad();
  for (Range* range : {&plot.left_range, &plot.right_range}) {
    range->low = std::min(range->low, 0.0);
    range->high = std::max(range->high, 0.0);
    range->pad();
  }
  return plot;
}

// Six x ticks; counts (integer_x) at whole numbers only, so that "2" stands at 2, not 2.4.
void draw_x_ticks(const Plot& p, bool integer_x) {
  const double span = p.x_range.high - p.x_range.low;
  const double step = integer_x ? std::max(1.0, std::ceil(span / 5)) : span / 5;
  for (double x = p.x_range.low; x <= p.x_range.high + 1e-9 * span; x += step) {
    p.text(p.x(x), p.bottom + 16, fmt::format("{:.0f}", x), 0.5);
  }
}

// Frame, six ticks per axis (the right one only when used), axis label and title.
void draw_axes(const Plot& p, const LineChart& chart, int height) {
  cairo_t* cr = p.cr;
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, p.left, p.top, p.right - p.left, p.bottom - p.top);
  cairo_stroke(cr);
  for (int i = 0; i <= 5; ++i) {
    const double f = i / 5.0;
    const double left = p.left_range.at(f), right = p.right_range.at(f);
    p.text(p.left - 6,
           p.y(left, p.left_range) + 4,
           fmt::format("{:.{}f}", left, chart.left_decimals),
           1.0);
    if (p.with_right) {
      p.text(p.right + 6,
             p.y(right, p.right_range) + 4,
             fmt::format("{:.{}f}", right, chart.right_decimals),
             0.0);
    }
  }
  draw_x_ticks(p, chart.integer_x);
  p.text((p.left + p.right) / 2, height - 12.0, chart.x_label, 0.5);
  cairo_set_font_size(cr, 14);
  p.text((p.left + p.right) / 2, 24, chart.title, 0.5);
  cairo_set_font_size(cr, 12);
}

// One series as a line (with a dot per point when asked) and its legend entry at `legend_y`.
void draw_series(const Plot& p, const LineSeries& s, double legend_y) {
  cairo_t* cr = p.cr;
  const Range& range = s.right_axis ? p.right_range : p.left_range;
  cairo_set_source_rgb(cr, s.r, s.g, s.b);
  cairo_set_line_width(cr, s.line_width);
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (i == 0) {
      cairo_move_to(cr, p.x(s.x[i]), p.y(s.y[i], range));
    } else {
      cairo_line_to(cr, p.x(s.x[i]), p.y(s.y[i], range));
    }
  }
  cairo_stroke(cr);
  if (s.dots) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      cairo_arc(cr, p.x(s.x[i]), p.y(s.y[i], range), 2.5, 0, 2 * M_PI);
      cairo_fill(cr);
    }
  }
  cairo_rectangle(cr, p.right - 190, legend_y - 9, 14, 4);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  p.text(p.right - 170, legend_y - 3, s.label, 0.0);
}

}  // namespace

void write_line_chart(const LineChart& chart,
                      const std::filesystem::path& path,
                      int width,
                      int height) {
  CairoSurface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height),
                       cairo_surface_destroy);
  CairoContext owner(cairo_create(surface.get()), cairo_destroy);
  cairo_t* cr = owner.get();
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);

  const Plot plot = plot_of(cr, chart, width, height);
  draw_axes(plot, chart, height);
  double legend_y = plot.top + 18;
  for (const auto& s : chart.series) {
    if (s.x.empty()) continue;
    draw_series(plot, s, legend_y);
    legend_y += 16;
  }
  write_png(surface.get(), path);
}

}  // namespace qkv
