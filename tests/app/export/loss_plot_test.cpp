// app/export/loss_plot: the training curves are a valid PNG of the asked size with the three
// series drawn in their colours, an empty log still gives a blank plot, and a failed write
// names the file.
#include "app/export/loss_plot.h"

#include <cairo.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "tests/app/export/png_pixels.h"
#include "tests/inference/inference_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using test::pixels_of_colour;
using test::read_png;

std::vector<MetricsRecord> falling_loss_and_rising_bleu() {
  std::vector<MetricsRecord> records;
  for (int64_t step = 10; step <= 300; step += 10) {
    records.push_back({"train", step, {{"loss", 9.0 - step / 50.0}, {"lr", 1e-3}}});
    if (step % 100 == 0) {
      records.push_back(
          {"valid", step, {{"valid_loss", 8.0 - step / 60.0}, {"bleu", step / 10.0}}});
    }
  }
  return records;
}

class LossPlotTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::fresh_dir("loss_plot"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(LossPlotTest, WritesAPngOfTheAskedSizeWithEverySeriesInItsColour) {
  write_loss_plot(falling_loss_and_rising_bleu(), dir_ / "loss.png", 640, 360);
  const test::Image image = read_png(dir_ / "loss.png");
  ASSERT_EQ(cairo_surface_status(image.get()), CAIRO_STATUS_SUCCESS);
  EXPECT_EQ(cairo_image_surface_get_width(image.get()), 640);
  EXPECT_EQ(cairo_image_surface_get_height(image.get()), 360);
  EXPECT_GT(pixels_of_colour(image.get(), 0.20, 0.40, 0.80), 20) << "train loss";
  EXPECT_GT(pixels_of_colour(image.get(), 0.90, 0.45, 0.10), 20) << "valid loss";
  EXPECT_GT(pixels_of_colour(image.get(), 0.10, 0.60, 0.25), 20) << "valid BLEU";
}

TEST_F(LossPlotTest, DefaultSizeAndAnEmptyLogGiveABlankPlot) {
  write_loss_plot({}, dir_ / "empty.png");
  const test::Image image = read_png(dir_ / "empty.png");
  ASSERT_EQ(cairo_surface_status(image.get()), CAIRO_STATUS_SUCCESS);
  EXPECT_EQ(cairo_image_surface_get_width(image.get()), 900);
  EXPECT_EQ(cairo_image_surface_get_height(image.get()), 500);
  EXPECT_EQ(pixels_of_colour(image.get(), 0.20, 0.40, 0.80), 0);
  EXPECT_GT(pixels_of_colour(image.get(), 1, 1, 1), 900 * 500 / 2);
}

TEST_F(LossPlotTest, AnUnwritablePathIsNamedInTheError) {
  const fs::path path = dir_ / "missing" / "loss.png";
  try {
    write_loss_plot(falling_loss_and_rising_bleu(), path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot write " + path.string()));
  }
}

}  // namespace
}  // namespace qkv
