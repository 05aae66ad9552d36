// The figures of `qkv heads`: the heatmap colours each head by its harm over the largest one
// (white for a gain), with the scale in the metric's units; the pruning chart has one point
// per step, the loss on the right axis; both write valid PNGs.
#include "app/export/head_figures.h"

#include <cairo.h>
#include <gtest/gtest.h>

#include "tests/app/export/head_study_fixture.h"
#include "tests/inference/inference_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

TEST(HeadFigures, HeatmapIsHarmOverTheLargestHarm) {
  const HeatmapFigure figure = head_heatmap_figure(test::bleu_study());
  EXPECT_EQ(figure.row_labels,
            (std::vector<std::string>{"encoder.0.self_attn", "decoder.0.cross_attn"}));
  EXPECT_EQ(figure.column_labels, (std::vector<std::string>{"head 0", "head 1"}));
  ASSERT_EQ(figure.panels.size(), 1u);
  // BLEU drops 0.5, -0.25 (a gain), 2.0, 0 over the largest, 2.0.
  const auto expected = torch::tensor({0.25, -0.125, 1.0, 0.0}, torch::kFloat64).reshape({2, 2});
  EXPECT_TRUE(torch::allclose(figure.panels[0].weights, expected));
  EXPECT_DOUBLE_EQ(figure.scale_max, 2.0);
  EXPECT_EQ(figure.scale_label, "BLEU drop");
}

TEST(HeadFigures, PruningChartHasOnePointPerStepAndTheLossOnTheRight) {
  const LineChart chart = pruning_chart(test::bleu_study());
  ASSERT_EQ(chart.series.size(), 2u);
  EXPECT_EQ(chart.series[0].x, (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(chart.series[0].y, (std::vector<double>{20.0, 20.25, 20.1, 19.0, 9.0}));
  EXPECT_FALSE(chart.series[0].right_axis);
  EXPECT_EQ(chart.series[1].y, (std::vector<double>{3.5, 3.498, 3.498, 3.51, 4.5}));
  EXPECT_TRUE(chart.series[1].right_axis);
  EXPECT_TRUE(chart.integer_x);
}

TEST(HeadFigures, WritesValidPngs) {
  const fs::path dir = test::fresh_dir("head_figures");
  write_head_heatmap(test::bleu_study(), dir / "importance.png");
  write_pruning_curve(test::bleu_study(), dir / "pruning.png");
  for (const char* name : {"importance.png", "pruning.png"}) {
    cairo_surface_t* image = cairo_image_surface_create_from_png((dir / name).c_str());
    EXPECT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS) << name;
    EXPECT_GT(cairo_image_surface_get_width(image), 300) << name;
    cairo_surface_destroy(image);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qkv
