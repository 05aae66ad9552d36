// app/export/line_plot: each series is drawn in its colour on its own axis, an empty series
// draws nothing, and a failed write names the file.
#include "app/export/line_plot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/app/export/png_pixels.h"
#include "tests/inference/inference_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

LineChart two_series_and_an_empty_one() {
  LineChart chart;
  chart.title = "test chart";
  chart.x_label = "heads switched off";
  chart.integer_x = true;
  chart.series = {{{0, 1, 2, 3}, {20, 19, 15, 2}, 0.10, 0.60, 0.25, "BLEU"},
                  {{0, 1, 2, 3}, {3.5, 3.6, 4.0, 6.0}, 0.90, 0.45, 0.10, "loss", true},
                  {{}, {}, 0.80, 0.10, 0.80, "nothing"}};
  return chart;
}

TEST(LinePlot, DrawsEachSeriesInItsColourAndSkipsEmptyOnes) {
  const fs::path dir = test::fresh_dir("line_plot");
  write_line_chart(two_series_and_an_empty_one(), dir / "chart.png", 400, 300);
  const test::Image image = test::read_png(dir / "chart.png");
  ASSERT_EQ(cairo_surface_status(image.get()), CAIRO_STATUS_SUCCESS);
  EXPECT_EQ(cairo_image_surface_get_width(image.get()), 400);
  EXPECT_GT(test::pixels_of_colour(image.get(), 0.10, 0.60, 0.25), 20) << "left series";
  EXPECT_GT(test::pixels_of_colour(image.get(), 0.90, 0.45, 0.10), 20) << "right series";
  EXPECT_EQ(test::pixels_of_colour(image.get(), 0.80, 0.10, 0.80), 0) << "empty series";
  fs::remove_all(dir);
}

TEST(LinePlot, AnUnwritablePathIsNamed) {
  const fs::path path = fs::temp_directory_path() / "qkv_no_such_dir_for_line_plot" / "c.png";
  EXPECT_THAT([&] { write_line_chart(two_series_and_an_empty_one(), path); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  ::testing::HasSubstr("cannot write " + path.string())));
}

}  // namespace
}  // namespace qkv
