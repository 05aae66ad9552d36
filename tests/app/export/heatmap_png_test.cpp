// PNG heatmaps: valid PNG files of the reported size (read back by cairo), colours that follow
// the weights, readable sizes up to 40 subwords, German and Cyrillic glyphs available and
// Cyrillic labels drawn as themselves (not as boxes), and one grid image plus one head-average
// image per attention site.
#include "app/export/heatmap_png.h"

#include <cairo.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "app/export/attention_png.h"
#include "tests/app/export/export_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

struct Png {
  int width = 0, height = 0;
  std::vector<uint32_t> pixels;  // 0x00RRGGBB
};

Png load_png(const fs::path& path) {
  cairo_surface_t* surface = cairo_image_surface_create_from_png(path.c_str());
  Png png;
  if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS) {
    png.width = cairo_image_surface_get_width(surface);
    png.height = cairo_image_surface_get_height(surface);
    const int stride = cairo_image_surface_get_stride(surface);
    const unsigned char* data = cairo_image_surface_get_data(surface);
    for (int y = 0; y < png.height; ++y) {
      const auto* row = reinterpret_cast<const uint32_t*>(data + y * stride);
      for (int x = 0; x < png.width; ++x) png.pixels.push_back(row[x] & 0xffffff);
    }
  }
  cairo_surface_destroy(surface);
  return png;
}

HeatmapFigure figure_of(const torch::Tensor& weights, int64_t panels = 1) {
  HeatmapFigure figure;
  figure.title = "test figure";
  figure.notes = {"rows = queries, columns = keys"};
  for (int64_t i = 0; i < weights.size(0); ++i)
    figure.row_labels.push_back("q" + std::to_string(i));
  for (int64_t j = 0; j < weights.size(1); ++j)
    figure.column_labels.push_back("k" + std::to_string(j));
  for (int64_t p = 0; p < panels; ++p)
    figure.panels.push_back({"head " + std::to_string(p), weights});
  return figure;
}

class HeatmapPngTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(HeatmapPngTest, WritesAValidPngOfTheReportedSize) {
  const auto figure = figure_of(torch::softmax(torch::randn({5, 7}), -1), 4);
  const ImageSize size = write_heatmap_png(dir_ / "grid.png", figure);
  EXPECT_EQ(size.width, heatmap_size(figure).width);
  EXPECT_EQ(size.height, heatmap_size(figure).height);
  const std::string bytes = test::read_file(dir_ / "grid.png");
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  const Png png = load_png(dir_ / "grid.png");
  EXPECT_EQ(png.width, size.width);
  EXPECT_EQ(png.height, size.height);
  // A 2 x 2 grid of panels is wider and taller than one panel.
  const ImageSize single = heatmap_size(figure_of(torch::softmax(torch::randn({5, 7}), -1), 1));
  EXPECT_GT(size.width, single.width);
  EXPECT_GT(size.height, single.height);
}

// The pixel near the top-left corner of a cell (away from printed values).
uint32_t cell_pixel(
    const Png& png, const HeatmapFigure& figure, int64_t panel, int64_t i, int64_t j) {
  const CellBox box = heatmap_cell(figure, panel, i, j);
  const int x = static_cast<int>(box.x + 3), y = static_cast<int>(box.y + 3);
  return png.pixels[static_cast<size_t>(y * png.width + x)];
}

// Colours equal within one step per channel (8-bit rounding).
bool close_colour(uint32_t a, uint32_t b) {
  for (int shift : {0, 8, 16}) {
    if (std::abs(static_cast<int>((a >> shift) & 0xff) - static_cast<int>((b >> shift) & 0xff)) >
        1) {
      return false;
    }
  }
  return true;
}

TEST_F(HeatmapPngTest, CellColoursFollowTheWeightsWhiteForZeroDarkBlueForOne) {
  auto weights = torch::zeros({3, 4});
  weights[0][0] = 1;
  weights[1][2] = 0.5;
  const HeatmapFigure figure = figure_of(weights, 2);
  write_heatmap_png(dir_ / "cells.png", figure);
  const Png png = load_png(dir_ / "cells.png");
  for (int64_t panel : {0, 1}) {
    EXPECT_TRUE(close_colour(cell_pixel(png, figure, panel, 0, 0), 0x08306b))
        << std::hex << cell_pixel(png, figure, panel, 0, 0);
    EXPECT_TRUE(close_colour(cell_pixel(png, figure, panel, 2, 3), 0xf7fbff))
        << std::hex << cell_pixel(png, figure, panel, 2, 3);
    EXPECT_TRUE(close_colour(cell_pixel(png, figure, panel, 1, 2), 0x6baed6))
        << std::hex << cell_pixel(png, figure, panel, 1, 2);
  }
  EXPECT_THROW(heatmap_cell(figure, 2, 0, 0), std::out_of_range);
  EXPECT_THROW(heatmap_cell(figure, 0, 3, 0), std::out_of_range);
}

TEST_F(HeatmapPngTest, MaskedCellsAreHatchedGreyNotWhite) {
  auto weights = torch::ones({4, 4}).tril();
  weights = weights / weights.sum(-1, true);
  HeatmapFigure figure = figure_of(weights);
  figure.keep_mask = torch::ones({4, 4}, torch::kBool).tril();
  write_heatmap_png(dir_ / "masked.png", figure);
  const Png png = load_png(dir_ / "masked.png");
  const uint32_t masked = cell_pixel(png, figure, 0, 0, 3);
  EXPECT_FALSE(close_colour(masked, 0xf7fbff)) << std::hex << masked;
  const int red = (masked >> 16) & 0xff, green = (masked >> 8) & 0xff, blue = masked & 0xff;
  EXPECT_TRUE(red == green && green == blue && red > 150 && red < 240) << std::hex << masked;
  EXPECT_TRUE(close_colour(cell_pixel(png, figure, 0, 3, 3), 0xc6dbef)) << "weight 0.25";
}

TEST_F(HeatmapPngTest, FortySubwordsStayReadableWithinAReasonableSize) {
  const auto figure = figure_of(torch::softmax(torch::randn({40, 40}), -1), 4);
  const ImageSize size = heatmap_size(figure);
  // 2 x 2 panels of 40 cells of at least 13 px each, plus labels; not a poster.
  EXPECT_GE(size.width, 2 * 40 * 13);
  EXPECT_GE(size.height, 2 * 40 * 13);
  EXPECT_LE(size.width, 2600);
  EXPECT_LE(size.height, 2600);
  const Png png = load_png(dir_ / "forty.png");  // not written yet: cairo reports an error
  EXPECT_EQ(png.width, 0);
  write_heatmap_png(dir_ / "forty.png", figure);
  EXPECT_EQ(load_png(dir_ / "forty.png").width, size.width);
}

TEST(HeatmapPng, GermanAndCyrillicLabelsHaveGlyphs) {
  EXPECT_EQ(missing_glyphs("\u2581Stra\u00dfe sch\u00f6n gr\u00fc\u00dft \u00c4rger"), 0);
  EXPECT_EQ(
      missing_glyphs("\u2581\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440 \u0451\u0436"),
      0);
  EXPECT_EQ(missing_glyphs("<s> \u2192 </s>"), 0);
  // The check can fail: a private-use code point has no glyph in any font we ship.
  EXPECT_EQ(missing_glyphs("\U0010FFFD"), 1);
}

// The pixels left of row `row` of panel 0, where write_heatmap_png() right-aligns the row
// (query) labels; the same strip for every row of a figure.
std::vector<uint32_t> row_label_strip(const Png& png, const HeatmapFigure& figure, int64_t row) {
  const CellBox cell = heatmap_cell(figure, 0, row, 0);
  std::vector<uint32_t> strip;
  for (int y = static_cast<int>(cell.y); y < static_cast<int>(cell.y + cell.side); ++y) {
    for (int x = 0; x < static_cast<int>(cell.x) - 1; ++x) {
      strip.push_back(png.pixels[static_cast<size_t>(y * png.width + x)]);
    }
  }
  return strip;
}

int64_t dark_pixels(const std::vector<uint32_t>& pixels) {
  return std::count_if(pixels.begin(), pixels.end(), [](uint32_t p) {
    return ((p >> 16) & 0xff) < 0x80 && ((p >> 8) & 0xff) < 0x80 && (p & 0xff) < 0x80;
  });
}

// A font without Cyrillic would draw every letter as the same box (its .notdef glyph), as it
// does for two private-use code points that no font has: those two rows must look alike (so
// the check can fail), and each Cyrillic letter must be inked and unlike the box and the others.
TEST_F(HeatmapPngTest, CyrillicLabelsAreDrawnAsTheirOwnGlyphsNotAsBoxes) {
  const std::vector<std::string> letters = {
      "\u0416", "\u042e", "\u0429", "\u0444", "\u0451"};  // Ж Ю Щ ф ё
  HeatmapFigure figure = figure_of(torch::zeros({7, 2}));
  figure.row_labels = letters;
  figure.row_labels.insert(figure.row_labels.end(), {"\U0010FFFD", "\U0010FFFC"});
  write_heatmap_png(dir_ / "cyrillic.png", figure);
  const Png png = load_png(dir_ / "cyrillic.png");
  ASSERT_GT(png.width, 0);

  const auto box = row_label_strip(png, figure, 5);
  EXPECT_EQ(row_label_strip(png, figure, 6), box) << "unknown glyphs should share one box";
  EXPECT_GT(dark_pixels(box), 0);
  for (size_t i = 0; i < letters.size(); ++i) {
    const auto glyph = row_label_strip(png, figure, static_cast<int64_t>(i));
    EXPECT_GT(dark_pixels(glyph), 10) << letters[i] << " was not drawn";
    EXPECT_NE(glyph, box) << letters[i] << " was drawn as a box";
    for (size_t j = 0; j < i; ++j) {
      EXPECT_NE(glyph, row_label_strip(png, figure, static_cast<int64_t>(j)))
          << letters[i] << " looks like " << letters[j];
    }
  }
}

TEST(HeatmapPng, RejectsPanelsThatDoNotMatchTheLabels) {
  HeatmapFigure figure = figure_of(torch::zeros({2, 3}));
  figure.row_labels.pop_back();
  EXPECT_THROW(heatmap_size(figure), std::invalid_argument);
  figure.panels.clear();
  EXPECT_THROW(heatmap_size(figure), std::invalid_argument);
}

TEST_F(HeatmapPngTest, OneGridAndOneHeadAverageImagePerSite) {
  const SentenceAttention sentence = test::labelled_sentence(6, 5, /*projections=*/false);
  const auto written = write_attention_pngs(dir_, sentence);
  ASSERT_EQ(written.size(), 2 * sentence.sites.size());
  for (size_t i = 0; i < sentence.sites.size(); ++i) {
    const SiteAttention& site = sentence.sites[i];
    EXPECT_EQ(written[2 * i], dir_ / (site.site + ".png"));
    EXPECT_EQ(written[2 * i + 1], dir_ / (site.site + ".mean.png"));
    const Png grid = load_png(written[2 * i]);
    const Png mean = load_png(written[2 * i + 1]);
    EXPECT_EQ(grid.width, heatmap_size(site_figure(sentence, site, false)).width);
    EXPECT_EQ(mean.height, heatmap_size(site_figure(sentence, site, true)).height);
    EXPECT_GE(grid.width, mean.width) << site.site;  // the notes may be wider than both
  }
  const HeatmapFigure cross = site_figure(sentence, sentence.at("decoder.1.cross_attn"), false);
  EXPECT_EQ(cross.title, "Cross-attention, decoder layer 1: all 2 heads");
  EXPECT_EQ(cross.panels.size(), 2u);
  EXPECT_EQ(cross.panels[1].title, "head 1");
  EXPECT_EQ(cross.column_labels, sentence.source_tokens);
  EXPECT_EQ(cross.row_labels[0], "<s> \u2192 " + sentence.predicted_tokens[0]);
  EXPECT_NE(cross.notes[0].find("rows = queries"), std::string::npos);
  const HeatmapFigure self = site_figure(sentence, sentence.at("decoder.0.self_attn"), true);
  EXPECT_TRUE(self.keep_mask.defined());
  EXPECT_EQ(self.panels.size(), 1u);
  EXPECT_TRUE(
      torch::allclose(self.panels[0].weights, sentence.at("decoder.0.self_attn").weights.mean(0)));
}

}  // namespace
}  // namespace qkv
