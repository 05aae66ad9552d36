// The training-curves PNG (see loss_plot.h). Steps: 1. the three series from the records,
// 2. their ranges (loss from 0, BLEU from 0 on its own axis), 3. frame, ticks and titles,
// 4. each curve with its legend entry, 5. the file.
#include "app/export/loss_plot.h"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "app/export/cairo_drawing.h"

namespace qkv {
namespace {

struct Series {
  std::vector<double> x, y;
  double r, g, b;
  const char* label;
};

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

struct Curves {
  Series train{{}, {}, 0.20, 0.40, 0.80, "train loss"};
  Series valid{{}, {}, 0.90, 0.45, 0.10, "valid loss"};
  Series bleu{{}, {}, 0.10, 0.60, 0.25, "valid BLEU (right axis)"};
};

// Training loss from "train" records; validation loss and BLEU from "valid" ones. Values
// that are missing or not finite are left out.
Curves curves_of(const std::vector<MetricsRecord>& records) {
  Curves curves;
  for (const auto& r : records) {
    auto value = [&](const char* key, Series& s) {
      auto it = r.values.find(key);
      if (it != r.values.end() && std::isfinite(it->second)) {
        s.x.push_back(static_cast<double>(r.step));
        s.y.push_back(it->second);
      }
    };
    if (r.type == "train") value("loss", curves.train);
    if (r.type == "valid") {
      value("valid_loss", curves.valid);
      value("bleu", curves.bleu);
    }
  }
  return curves;
}

// The plot area and its three axes: steps across, loss on the left, BLEU on the right.
struct Plot {
  cairo_t* cr;
  double left, right, top, bottom;
  Range steps, loss, score;

  double x(double step) const {
    return left + (step - steps.low) / (steps.high - steps.low) * (right - left);
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

Plot plot_of(cairo_t* cr, const Curves& curves, int width, int height) {
  Plot plot{cr, 60, width - 60.0, 40, height - 50.0, {}, {}, {}};
  for (const Series* s : {&curves.train, &curves.valid}) {
    for (double v : s->x) plot.steps.add(v);
    for (double v : s->y) plot.loss.add(v);
  }
  for (double v : curves.bleu.x) plot.steps.add(v);
  for (double v : curves.bleu.y) plot.score.add(v);
  plot.steps.pad();
  plot.loss.low = std::min(plot.loss.low, 0.0);
  plot.loss.pad();
  plot.score.low = 0;
  plot.score.pad();
  return plot;
}

// Frame, six ticks per axis (the right one only with BLEU values), axis label and title.
void draw_axes(const Plot& p, bool with_score, int height) {
  cairo_t* cr = p.cr;
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, p.left, p.top, p.right - p.left, p.bottom - p.top);
  cairo_stroke(cr);
  for (int i = 0; i <= 5; ++i) {
    const double f = i / 5.0;
    p.text(p.x(p.steps.at(f)), p.bottom + 16, fmt::format("{:.0f}", p.steps.at(f)), 0.5);
    p.text(p.left - 6, p.y(p.loss.at(f), p.loss) + 4, fmt::format("{:.2f}", p.loss.at(f)), 1.0);
    if (with_score) {
      p.text(
          p.right + 6, p.y(p.score.at(f), p.score) + 4, fmt::format("{:.1f}", p.score.at(f)), 0.0);
    }
  }
  p.text((p.left + p.right) / 2, height - 12.0, "step", 0.5);
  cairo_set_font_size(cr, 14);
  p.text((p.left + p.right) / 2, 24, "qkv training: loss and validation BLEU", 0.5);
  cairo_set_font_size(cr, 12);
}

// One series as a line (with a dot per point unless `line_only`) and its legend entry at
// `legend_y`.
void draw_curve(const Plot& p,
                const Series& s,
                const Range& range,
                double line_width,
                bool line_only,
                double legend_y) {
  cairo_t* cr = p.cr;
  cairo_set_source_rgb(cr, s.r, s.g, s.b);
  cairo_set_line_width(cr, line_width);
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (i == 0) {
      cairo_move_to(cr, p.x(s.x[i]), p.y(s.y[i], range));
    } else {
      cairo_line_to(cr, p.x(s.x[i]), p.y(s.y[i], range));
    }
  }
  cairo_stroke(cr);
  if (!line_only) {
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

void write_loss_plot(const std::vector<MetricsRecord>& records,
                     const std::filesystem::path& path,
                     int width,
                     int height) {
  const Curves curves = curves_of(records);
  CairoSurface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height),
                       cairo_surface_destroy);
  CairoContext owner(cairo_create(surface.get()), cairo_destroy);
  cairo_t* cr = owner.get();
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);

  const Plot plot = plot_of(cr, curves, width, height);
  draw_axes(plot, !curves.bleu.y.empty(), height);
  double legend_y = plot.top + 18;
  for (const Series* s : {&curves.train, &curves.valid, &curves.bleu}) {
    if (s->x.empty()) continue;
    const bool train = s == &curves.train;
    draw_curve(plot,
               *s,
               s == &curves.bleu ? plot.score : plot.loss,
               train ? 1.2 : 2.0,
               /*line_only=*/train,
               legend_y);
    legend_y += 16;
  }
  write_png(surface.get(), path);
}

}  // namespace qkv
