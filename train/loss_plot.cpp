#include "train/loss_plot.h"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

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
};

}  // namespace

void write_loss_plot(const std::vector<MetricsRecord>& records,
                     const std::filesystem::path& path,
                     int width,
                     int height) {
  Series train{{}, {}, 0.20, 0.40, 0.80, "train loss"};
  Series valid{{}, {}, 0.90, 0.45, 0.10, "valid loss"};
  Series bleu{{}, {}, 0.10, 0.60, 0.25, "valid BLEU (right axis)"};
  for (const auto& r : records) {
    auto value = [&](const char* key, Series& s) {
      auto it = r.values.find(key);
      if (it != r.values.end() && std::isfinite(it->second)) {
        s.x.push_back(static_cast<double>(r.step));
        s.y.push_back(it->second);
      }
    };
    if (r.type == "train") value("loss", train);
    if (r.type == "valid") {
      value("valid_loss", valid);
      value("bleu", bleu);
    }
  }
  Range steps, loss, score;
  for (const Series* s : {&train, &valid}) {
    for (double v : s->x) steps.add(v);
    for (double v : s->y) loss.add(v);
  }
  for (double v : bleu.x) steps.add(v);
  for (double v : bleu.y) score.add(v);
  steps.pad();
  loss.low = std::min(loss.low, 0.0);
  loss.pad();
  score.low = 0;
  score.pad();

  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height), cairo_surface_destroy);
  std::unique_ptr<cairo_t, decltype(&cairo_destroy)> owner(cairo_create(surface.get()), cairo_destroy);
  cairo_t* cr = owner.get();
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);

  const double left = 60, right = width - 60.0, top = 40, bottom = height - 50.0;
  auto px = [&](double step) { return left + (step - steps.low) / (steps.high - steps.low) * (right - left); };
  auto py = [&](double v, const Range& range) {
    return bottom - (v - range.low) / (range.high - range.low) * (bottom - top);
  };
  auto text = [&](double x, double y, const std::string& s, double align) {
    cairo_text_extents_t extents;
    cairo_text_extents(cr, s.c_str(), &extents);
    cairo_move_to(cr, x - align * extents.width, y);
    cairo_show_text(cr, s.c_str());
  };

  // Axes and ticks.
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_stroke(cr);
  for (int i = 0; i <= 5; ++i) {
    const double f = i / 5.0;
    text(px(steps.low + f * (steps.high - steps.low)), bottom + 16,
         fmt::format("{:.0f}", steps.low + f * (steps.high - steps.low)), 0.5);
    text(left - 6, py(loss.low + f * (loss.high - loss.low), loss) + 4,
         fmt::format("{:.2f}", loss.low + f * (loss.high - loss.low)), 1.0);
    if (!bleu.y.empty()) {
      text(right + 6, py(score.low + f * (score.high - score.low), score) + 4,
           fmt::format("{:.1f}", score.low + f * (score.high - score.low)), 0.0);
    }
  }
  text((left + right) / 2, height - 12.0, "step", 0.5);
  cairo_set_font_size(cr, 14);
  text((left + right) / 2, 24, "qkv training: loss and validation BLEU", 0.5);
  cairo_set_font_size(cr, 12);

  // Curves and legend.
  double legend_y = top + 18;
  for (Series* s : {&train, &valid, &bleu}) {
    if (s->x.empty()) continue;
    const Range& range = s == &bleu ? score : loss;
    cairo_set_source_rgb(cr, s->r, s->g, s->b);
    cairo_set_line_width(cr, s == &train ? 1.2 : 2.0);
    for (size_t i = 0; i < s->x.size(); ++i) {
      if (i == 0) cairo_move_to(cr, px(s->x[i]), py(s->y[i], range));
      else cairo_line_to(cr, px(s->x[i]), py(s->y[i], range));
    }
    cairo_stroke(cr);
    if (s != &train) {
      for (size_t i = 0; i < s->x.size(); ++i) {
        cairo_arc(cr, px(s->x[i]), py(s->y[i], range), 2.5, 0, 2 * M_PI);
        cairo_fill(cr);
      }
    }
    cairo_rectangle(cr, right - 190, legend_y - 9, 14, 4);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(right - 170, legend_y - 3, s->label, 0.0);
    legend_y += 16;
  }
  cairo_surface_flush(surface.get());
  if (cairo_surface_write_to_png(surface.get(), path.c_str()) != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

}  // namespace qkv
