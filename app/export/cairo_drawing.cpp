// Cairo helpers for the figures (see cairo_drawing.h).
#include "app/export/cairo_drawing.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "data/io/atomic_file.h"

namespace qkv {

void write_png(cairo_surface_t* surface, const std::filesystem::path& path) {
  cairo_surface_flush(surface);
  std::string png;
  const auto append = [](void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
  };
  const cairo_status_t status = cairo_surface_write_to_png_stream(surface, append, &png);
  if (status != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error("cannot write " + path.string() + ": " +
                             cairo_status_to_string(status));
  }
  write_file_atomically(path, png);
}

MeasuringContext::MeasuringContext()
    : surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1), cairo_surface_destroy),
      context(cairo_create(surface.get()), cairo_destroy) {}

// ColorBrewer "Blues" (9 classes), interpolated: white for 0, dark blue for 1.
Rgb colour_of(double value) {
  static const std::array<Rgb, 9> stops = {{{0xf7, 0xfb, 0xff},
                                            {0xde, 0xeb, 0xf7},
                                            {0xc6, 0xdb, 0xef},
                                            {0x9e, 0xca, 0xe1},
                                            {0x6b, 0xae, 0xd6},
                                            {0x42, 0x92, 0xc6},
                                            {0x21, 0x71, 0xb5},
                                            {0x08, 0x51, 0x9c},
                                            {0x08, 0x30, 0x6b}}};
  const double x = std::clamp(value, 0.0, 1.0) * (stops.size() - 1);
  const auto i = std::min(static_cast<size_t>(x), stops.size() - 2);
  const double t = x - static_cast<double>(i);
  const Rgb& a = stops[i];
  const Rgb& b = stops[i + 1];
  return {
      (a.r + t * (b.r - a.r)) / 255, (a.g + t * (b.g - a.g)) / 255, (a.b + t * (b.b - a.b)) / 255};
}

void set_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr,
                         "DejaVu Sans",
                         CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

// Shows `label` at the current point in dark grey, with SentencePiece's word-start mark "▁"
// (U+2581) in a light grey so that the word itself stands out.
void show_label(cairo_t* cr, const std::string& label) {
  static const std::string kWordMark = "\xe2\x96\x81";
  size_t from = 0;
  while (from < label.size()) {
    const size_t mark = std::min(label.find(kWordMark, from), label.size());
    if (mark > from) {
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      cairo_show_text(cr, label.substr(from, mark - from).c_str());
    }
    if (mark == label.size()) break;
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_show_text(cr, kWordMark.c_str());
    from = mark + kWordMark.size();
  }
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
}

// Light grey with diagonal hatching: the cell was excluded by the mask (weight exactly 0).
void draw_masked_cell(cairo_t* cr, double x, double y, double side) {
  cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
  cairo_rectangle(cr, x, y, side, side);
  cairo_fill(cr);
  cairo_save(cr);
  cairo_rectangle(cr, x, y, side, side);
  cairo_clip(cr);
  cairo_set_source_rgb(cr, 0.72, 0.72, 0.72);
  cairo_set_line_width(cr, 1);
  for (double d = -side; d < side; d += 5) {
    cairo_move_to(cr, x + d, y + side);
    cairo_line_to(cr, x + d + side, y);
  }
  cairo_stroke(cr);
  cairo_restore(cr);
}

}  // namespace qkv
