// cross_attention_text(): the head-averaged cross-attention of one decoder layer, in percent,
// one row per query and one column per key, with the tokens as labels.
#include "app/export/text_heatmap.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "tests/app/export/export_test_util.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(CrossAttentionText, RowsAreQueriesWithTheHeadMeanInPercent) {
  const SentenceAttention sentence = test::labelled_sentence(5, 4, /*projections=*/false);
  const int64_t layer = 1;
  const auto lines = lines_of(cross_attention_text(sentence, layer));
  const auto mean = sentence.at("decoder.1.cross_attn").weights.mean(0);  // [T, S]
  ASSERT_EQ(lines.size(), 2 + sentence.target_tokens.size());
  EXPECT_THAT(lines[0], HasSubstr("of decoder.1.cross_attn (decoder layers 0-1), mean of 2 heads"));
  EXPECT_THAT(lines[0], HasSubstr("rows = queries"));
  size_t at = 0;  // the source tokens label the columns, in order
  for (const auto& token : sentence.source_tokens) {
    at = lines[1].find(token, at);
    ASSERT_NE(at, std::string::npos) << token;
  }
  for (size_t row = 0; row < sentence.target_tokens.size(); ++row) {
    const std::string& line = lines[2 + row];
    EXPECT_EQ(line.rfind(sentence.target_tokens[row], 0), 0u) << line;
    EXPECT_THAT(line, HasSubstr("-> " + sentence.predicted_tokens[row]));
    std::string expected;
    double total = 0;
    for (int64_t column = 0; column < mean.size(1); ++column) {
      const double percent = 100.0 * mean[static_cast<int64_t>(row)][column].item<double>();
      expected += fmt::format(" {:.0f}", percent);
      total += percent;
    }
    EXPECT_NEAR(total, 100.0, 1e-3);
    // The numbers at the end of the row, single-spaced, are the expected ones.
    std::istringstream cells(line.substr(line.find("-> ") + 3));
    std::string skip, number, got;
    cells >> skip;  // the predicted token
    while (cells >> number) got += " " + number;
    EXPECT_EQ(got, expected) << line;
  }
  EXPECT_THROW(cross_attention_text(sentence, 2), std::out_of_range);
  EXPECT_THROW(cross_attention_text(sentence, -1), std::out_of_range);
}

}  // namespace
}  // namespace qkv
