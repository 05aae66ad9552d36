// Heatmap grid figures with cairo (see heatmap_png.h). Steps: 1. measure the labels and lay
// the figure out (Layout), 2. draw the title, 3. each panel (title, column labels rotated,
// row labels, cells), 4. the colour scale. Everything is positioned from Layout, so
// heatmap_size() and write_heatmap_png() always agree.
#include "app/export/heatmap_png.h"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "app/export/cairo_drawing.h"

namespace qkv {
namespace {

constexpr double kMargin = 18;
constexpr double kGapX = 30;  // between panels
constexpr double kGapY = 22;
constexpr double kTitleSize = 18;
constexpr double kNoteSize = 13;
constexpr double kPanelTitleSize = 13;
constexpr double kScaleWidth = 18;  // colour bar
constexpr double kScaleHeight = 220;
constexpr double kScaleSpace = 120;  // colour bar, ticks and its label
constexpr double kTargetSide = 600;  // a panel's heatmap aims at about this many pixels

struct Layout {
  int64_t rows = 0, columns = 0;            // cells per panel
  int64_t grid_columns = 0, grid_rows = 0;  // panels
  double cell = 0, label_size = 0;          // cell side, label font size
  double row_label_width = 0, column_label_height = 0;
  double panel_title_height = 0, header_height = 0;
  double panel_width = 0, panel_height = 0;  // labels included
  double grid_width = 0;                     // all panels, without the colour scale
  double width = 0, height = 0;
  bool values_in_cells = false;

  // Top-left corner of the heatmap (cells only) of panel p.
  double heatmap_x(int64_t p) const {
    return kMargin + static_cast<double>(p % grid_columns) * (panel_width + kGapX) +
           row_label_width;
  }
  double heatmap_y(int64_t p) const {
    return header_height + static_cast<double>(p / grid_columns) * (panel_height + kGapY) +
           panel_title_height + column_label_height;
  }
};

void check_figure(const HeatmapFigure& figure) {
  if (figure.panels.empty()) throw std::invalid_argument("heatmap: a figure needs a panel");
  const auto rows = static_cast<int64_t>(figure.row_labels.size());
  const auto columns = static_cast<int64_t>(figure.column_labels.size());
  for (const auto& panel : figure.panels) {
    if (!panel.weights.defined() || panel.weights.dim() != 2 || panel.weights.size(0) != rows ||
        panel.weights.size(1) != columns) {
      throw std::invalid_argument(fmt::format(
          "heatmap: panel '{}' must be [{}, {}] like its labels", panel.title, rows, columns));
    }
  }
  if (figure.keep_mask.defined() &&
      (figure.keep_mask.dim() != 2 || figure.keep_mask.size(0) != rows ||
       figure.keep_mask.size(1) != columns)) {
    throw std::invalid_argument("heatmap: keep_mask must be [rows, columns]");
  }
}

Layout compute_layout(cairo_t* cr, const HeatmapFigure& figure) {
  check_figure(figure);
  Layout l;
  l.rows = static_cast<int64_t>(figure.row_labels.size());
  l.columns = static_cast<int64_t>(figure.column_labels.size());
  const auto panels = static_cast<int64_t>(figure.panels.size());
  l.grid_columns = figure.panels_per_row > 0
                       ? std::min(figure.panels_per_row, panels)
                       : static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(panels))));
  l.grid_rows = (panels + l.grid_columns - 1) / l.grid_columns;
  const double longest = static_cast<double>(std::max<int64_t>({l.rows, l.columns, 1}));
  l.cell = std::clamp(std::floor(kTargetSide / longest), 13.0, 34.0);
  l.label_size = std::clamp(l.cell * 0.72, 9.5, 13.0);
  l.values_in_cells = l.cell >= 28;

  set_font(cr, l.label_size);
  for (const auto& label : figure.row_labels) {
    l.row_label_width = std::max(l.row_label_width, text_width(cr, label));
  }
  for (const auto& label : figure.column_labels) {
    l.column_label_height = std::max(l.column_label_height, text_width(cr, label));
  }
  l.row_label_width += 8;
  l.column_label_height += 8;
  l.panel_title_height = kPanelTitleSize + 8;
  l.panel_width = l.row_label_width + l.cell * static_cast<double>(l.columns);
  l.panel_height =
      l.panel_title_height + l.column_label_height + l.cell * static_cast<double>(l.rows);
  l.header_height =
      kMargin + kTitleSize + 10 + static_cast<double>(figure.notes.size()) * (kNoteSize + 6) + 10;

  double text = 0;
  set_font(cr, kTitleSize, true);
  text = text_width(cr, figure.title);
  set_font(cr, kNoteSize);
  for (const auto& note : figure.notes) text = std::max(text, text_width(cr, note));
  const double grid_width = static_cast<double>(l.grid_columns) * l.panel_width +
                            static_cast<double>(l.grid_columns - 1) * kGapX;
  const double grid_height = static_cast<double>(l.grid_rows) * l.panel_height +
                             static_cast<double>(l.grid_rows - 1) * kGapY;
  l.grid_width = grid_width;
  double scale_space = kScaleSpace;  // colour bar, its ticks and the masked-cell legend
  if (figure.keep_mask.defined()) {
    set_font(cr, 11);
    scale_space = std::max(scale_space, 34 + kScaleWidth + 7 + text_width(cr, figure.mask_legend));
  }
  l.width = std::ceil(2 * kMargin + std::max(text, grid_width + scale_space));
  // The colour bar starts level with the first heatmap and may reach below a short grid.
  const double scale_height = l.panel_title_height + l.column_label_height + kScaleHeight +
                              (figure.keep_mask.defined() ? 40 : 12);
  l.height = std::ceil(l.header_height + std::max(grid_height, scale_height) + kMargin);
  return l;
}

void draw_header(cairo_t* cr, const HeatmapFigure& figure) {
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  set_font(cr, kTitleSize, true);
  double y = kMargin + kTitleSize;
  cairo_move_to(cr, kMargin, y);
  cairo_show_text(cr, figure.title.c_str());
  y += 10;
  set_font(cr, kNoteSize);
  cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
  for (const auto& note : figure.notes) {
    y += kNoteSize + 6;
    cairo_move_to(cr, kMargin, y);
    cairo_show_text(cr, note.c_str());
  }
}

// The panel's title, centred over its heatmap, the column labels (keys), rotated to read
// upwards, and the row labels (queries), right-aligned next to their row. Leaves the label
// font selected.
void draw_panel_labels(cairo_t* cr, const HeatmapFigure& figure, const Layout& l, int64_t p) {
  const HeatmapPanel& panel = figure.panels[static_cast<size_t>(p)];
  const double x0 = l.heatmap_x(p), y0 = l.heatmap_y(p);
  const double width = l.cell * static_cast<double>(l.columns);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  set_font(cr, kPanelTitleSize, true);
  cairo_move_to(cr, x0 + (width - text_width(cr, panel.title)) / 2, y0 - l.column_label_height - 8);
  cairo_show_text(cr, panel.title.c_str());
  set_font(cr, l.label_size);
  cairo_font_extents_t font;
  cairo_font_extents(cr, &font);
  for (int64_t j = 0; j < l.columns; ++j) {
    cairo_save(cr);
    cairo_move_to(cr,
                  x0 + (static_cast<double>(j) + 0.5) * l.cell + (font.ascent - font.descent) / 2,
                  y0 - 4);
    cairo_rotate(cr, -M_PI / 2);
    show_label(cr, figure.column_labels[static_cast<size_t>(j)]);
    cairo_restore(cr);
  }
  for (int64_t i = 0; i < l.rows; ++i) {
    const std::string& label = figure.row_labels[static_cast<size_t>(i)];
    cairo_move_to(cr,
                  x0 - 4 - text_width(cr, label),
                  y0 + (static_cast<double>(i) + 0.5) * l.cell + (font.ascent - font.descent) / 2);
    show_label(cr, label);
  }
}

// One cell of weight `value` at (x, y), with its value written in when the cells are large
// enough: weights as two decimals without the leading zero (".42"), other scales and negative
// values (a head that helps by being off) with two significant digits; light on dark cells.
void draw_cell(cairo_t* cr, const Layout& l, double x, double y, double value, double scale) {
  const Rgb c = colour_of(value);
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
  cairo_rectangle(cr, x, y, l.cell, l.cell);
  cairo_fill(cr);
  if (!l.values_in_cells) return;
  std::string text = scale != 1.0 || value < 0 ? fmt::format("{:.2g}", value * scale)
                     : value >= 0.995          ? "1"
                                               : fmt::format("{:.2f}", value).substr(1);
  set_font(cr, l.cell * 0.34);
  const double width = text_width(cr, text);  // "-0.085" is wider than ".42": shrink to fit
  if (width > l.cell * 0.9) set_font(cr, l.cell * 0.34 * l.cell * 0.9 / width);
  cairo_set_source_rgb(cr, value > 0.5 ? 1 : 0.15, value > 0.5 ? 1 : 0.15, value > 0.5 ? 1 : 0.15);
  cairo_move_to(cr, x + (l.cell - text_width(cr, text)) / 2, y + l.cell * 0.62);
  cairo_show_text(cr, text.c_str());
  set_font(cr, l.label_size);
}

// The cells of panel `p` (masked ones hatched) and a frame around them.
void draw_cells(cairo_t* cr,
                const HeatmapFigure& figure,
                const Layout& l,
                int64_t p,
                const torch::Tensor& keep) {
  const double x0 = l.heatmap_x(p), y0 = l.heatmap_y(p);
  const auto weights =
      figure.panels[static_cast<size_t>(p)].weights.to(torch::kCPU, torch::kFloat64).contiguous();
  const double* w = weights.data_ptr<double>();
  for (int64_t i = 0; i < l.rows; ++i) {
    for (int64_t j = 0; j < l.columns; ++j) {
      const double x = x0 + static_cast<double>(j) * l.cell;
      const double y = y0 + static_cast<double>(i) * l.cell;
      if (keep.defined() && !keep.data_ptr<bool>()[i * l.columns + j]) {
        draw_masked_cell(cr, x, y, l.cell);
      } else {
        draw_cell(cr, l, x, y, w[i * l.columns + j], figure.scale_max);
      }
    }
  }
  cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr,
                  x0 + 0.5,
                  y0 + 0.5,
                  l.cell * static_cast<double>(l.columns) - 1,
                  l.cell * static_cast<double>(l.rows) - 1);
  cairo_stroke(cr);
}

void draw_scale(cairo_t* cr, const HeatmapFigure& figure, const Layout& l) {
  const double x = kMargin + l.grid_width + 34;
  const double top = l.header_height + l.panel_title_height + l.column_label_height;
  const double height = kScaleHeight;
  auto gradient = std::unique_ptr<cairo_pattern_t, decltype(&cairo_pattern_destroy)>(
      cairo_pattern_create_linear(0, top + height, 0, top), cairo_pattern_destroy);
  for (int s = 0; s <= 16; ++s) {
    const Rgb c = colour_of(s / 16.0);
    cairo_pattern_add_color_stop_rgb(gradient.get(), s / 16.0, c.r, c.g, c.b);
  }
  cairo_rectangle(cr, x, top, kScaleWidth, height);
  cairo_set_source(cr, gradient.get());
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  set_font(cr, 11);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = top + height * (1 - tick / 4.0);
    cairo_move_to(cr, x + kScaleWidth, y);
    cairo_line_to(cr, x + kScaleWidth + 4, y);
    cairo_stroke(cr);
    cairo_move_to(cr, x + kScaleWidth + 7, y + 4);
    cairo_show_text(cr, fmt::format("{:.2f}", tick / 4.0 * figure.scale_max).c_str());
  }
  cairo_move_to(cr, x - 6, top - 10);
  cairo_show_text(cr, figure.scale_label.c_str());
  if (figure.keep_mask.defined()) {
    draw_masked_cell(cr, x, top + height + 18, kScaleWidth);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_move_to(cr, x + kScaleWidth + 7, top + height + 18 + 13);
    cairo_show_text(cr, figure.mask_legend.c_str());
  }
}

}  // namespace

ImageSize heatmap_size(const HeatmapFigure& figure) {
  const MeasuringContext cr;
  const Layout l = compute_layout(cr.get(), figure);
  return {static_cast<int>(l.width), static_cast<int>(l.height)};
}

CellBox heatmap_cell(const HeatmapFigure& figure, int64_t panel, int64_t row, int64_t column) {
  const MeasuringContext cr;
  const Layout l = compute_layout(cr.get(), figure);
  if (panel < 0 || panel >= static_cast<int64_t>(figure.panels.size()) || row < 0 ||
      row >= l.rows || column < 0 || column >= l.columns) {
    throw std::out_of_range(
        fmt::format("heatmap_cell: ({}, {}, {}) is outside the figure", panel, row, column));
  }
  return {l.heatmap_x(panel) + static_cast<double>(column) * l.cell,
          l.heatmap_y(panel) + static_cast<double>(row) * l.cell,
          l.cell};
}

ImageSize write_heatmap_png(const std::filesystem::path& path, const HeatmapFigure& figure) {
  const ImageSize size = heatmap_size(figure);
  CairoSurface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, size.width, size.height),
                       cairo_surface_destroy);
  CairoContext owner(cairo_create(surface.get()), cairo_destroy);
  cairo_t* cr = owner.get();
  const Layout l = compute_layout(cr, figure);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  draw_header(cr, figure);
  const torch::Tensor keep = figure.keep_mask.defined()
                                 ? figure.keep_mask.to(torch::kCPU, torch::kBool).contiguous()
                                 : torch::Tensor();
  for (int64_t p = 0; p < static_cast<int64_t>(figure.panels.size()); ++p) {
    draw_panel_labels(cr, figure, l, p);
    draw_cells(cr, figure, l, p, keep);
  }
  draw_scale(cr, figure, l);
  write_png(surface.get(), path);
  return size;
}

int64_t missing_glyphs(const std::string& text) {
  const MeasuringContext cr;
  set_font(cr.get(), 12);
  cairo_scaled_font_t* font = cairo_get_scaled_font(cr.get());
  cairo_glyph_t* glyphs = nullptr;
  int count = 0;
  if (cairo_scaled_font_text_to_glyphs(font,
                                       0,
                                       0,
                                       text.c_str(),
                                       static_cast<int>(text.size()),
                                       &glyphs,
                                       &count,
                                       nullptr,
                                       nullptr,
                                       nullptr) != CAIRO_STATUS_SUCCESS) {
    throw std::invalid_argument("missing_glyphs: text is not valid UTF-8");
  }
  int64_t missing = 0;
  for (int i = 0; i < count; ++i) missing += glyphs[i].index == 0 ? 1 : 0;  // 0 = .notdef
  cairo_glyph_free(glyphs);
  return missing;
}

}  // namespace qkv
