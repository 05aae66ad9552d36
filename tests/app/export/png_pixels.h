// Reading PNGs back for the figure tests: the image, and how many pixels have a colour.
#pragma once

#include <cairo.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace qkv::test {

using Image = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;

inline Image read_png(const std::filesystem::path& path) {
  return Image(cairo_image_surface_create_from_png(path.c_str()), cairo_surface_destroy);
}

/// How many pixels of `image` have the colour (r, g, b) given in [0, 1], up to rounding.
inline int64_t pixels_of_colour(cairo_surface_t* image, double r, double g, double b) {
  const auto near = [](uint32_t pixel, int shift, double v) {
    const int channel = static_cast<int>((pixel >> shift) & 0xff);
    return std::abs(channel - static_cast<int>(v * 255 + 0.5)) <= 2;
  };
  const unsigned char* data = cairo_image_surface_get_data(image);
  const int stride = cairo_image_surface_get_stride(image);
  int64_t count = 0;
  for (int y = 0; y < cairo_image_surface_get_height(image); ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + y * stride);
    for (int x = 0; x < cairo_image_surface_get_width(image); ++x) {
      count += near(row[x], 16, r) && near(row[x], 8, g) && near(row[x], 0, b);
    }
  }
  return count;
}

}  // namespace qkv::test
