// Small cairo helpers for the figures (heatmap_png.cpp, loss_plot.cpp): owned surfaces and
// contexts, writing a surface as a PNG file, the label font ("DejaVu Sans", found through
// fontconfig), text measuring, token labels with a light-grey SentencePiece mark, the colour
// map and hatched masked cells. Private to app/export: it includes cairo.h, which no public
// header of qkv does.
#pragma once

#include <cairo.h>

#include <filesystem>
#include <memory>
#include <string>

namespace qkv {

using CairoSurface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using CairoContext = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

/// Encodes `surface` as PNG and writes it to `path` atomically (data/io/atomic_file.h).
/// Throws std::runtime_error naming the path when it cannot be encoded or written.
void write_png(cairo_surface_t* surface, const std::filesystem::path& path);

/// A 1 x 1 surface and its context, for measuring text before an image is sized.
struct MeasuringContext {
  MeasuringContext();
  cairo_t* get() const { return context.get(); }
  CairoSurface surface;
  CairoContext context;
};

struct Rgb {
  double r, g, b;  ///< each in [0, 1]
};

/// ColorBrewer "Blues" (9 classes), interpolated: near-white for 0, dark blue for 1; values
/// outside [0, 1] are clamped.
Rgb colour_of(double value);

/// Selects DejaVu Sans at `size` pixels, bold or regular.
void set_font(cairo_t* cr, double size, bool bold = false);

/// Horizontal advance of `text` (UTF-8) in the current font.
double text_width(cairo_t* cr, const std::string& text);

/// Shows `label` at the current point in dark grey, with each SentencePiece word-start mark
/// "▁" (U+2581) in light grey so that the word itself stands out. Same advance as
/// cairo_show_text(label).
void show_label(cairo_t* cr, const std::string& label);

/// A masked cell: light grey with diagonal hatching (its weight is exactly 0 by the mask, not
/// by the model's choice).
void draw_masked_cell(cairo_t* cr, double x, double y, double side);

}  // namespace qkv
