#include "app/export/text_heatmap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "data/io/utf8.h"

namespace qkv {
namespace {

// Terminal columns of a UTF-8 string: one per code point (the pieces are letters, digits,
// punctuation and "▁"; wide CJK characters are rare enough to leave a column ragged).
size_t display_width(const std::string& text) { return code_point_count(text); }

std::string pad_left(const std::string& text, size_t width) {
  const size_t w = display_width(text);
  return std::string(w < width ? width - w : 0, ' ') + text;
}

std::string pad_right(const std::string& text, size_t width) {
  const size_t w = display_width(text);
  return text + std::string(w < width ? width - w : 0, ' ');
}

}  // namespace

std::string cross_attention_text(const SentenceAttention& sentence, int64_t layer) {
  if (layer < 0 || layer >= sentence.decoder_layers) {
    throw std::out_of_range(fmt::format(
        "decoder layer {} does not exist (the model has {})", layer, sentence.decoder_layers));
  }
  const SiteAttention& site = sentence.at(fmt::format("decoder.{}.cross_attn", layer));
  const auto mean = site.weights.mean(/*dim=*/0).contiguous();  // [T, S]
  const auto rows = static_cast<size_t>(mean.size(0));
  const auto columns = static_cast<size_t>(mean.size(1));
  const auto* weights = mean.data_ptr<float>();

  auto label_of = [&](size_t row) {
    const std::string query =
        row < sentence.target_tokens.size() ? sentence.target_tokens[row] : "?";
    const std::string next =
        row < sentence.predicted_tokens.size() ? sentence.predicted_tokens[row] : "?";
    return std::pair{query, next};
  };
  size_t query_width = 0, next_width = 0;
  for (size_t row = 0; row < rows; ++row) {
    const auto [query, next] = label_of(row);
    query_width = std::max(query_width, display_width(query));
    next_width = std::max(next_width, display_width(next));
  }
  std::vector<size_t> widths(columns);
  for (size_t column = 0; column < columns; ++column) {
    const std::string key =
        column < sentence.source_tokens.size() ? sentence.source_tokens[column] : "?";
    widths[column] = std::max<size_t>(4, display_width(key) + 1);
  }

  std::string out = fmt::format(
      "cross-attention of decoder.{}.cross_attn (decoder layers 0-{}), mean of {} heads: rows = "
      "queries (decoder input -> predicted token), columns = keys (source tokens), % of each row\n",
      layer,
      sentence.decoder_layers - 1,
      site.weights.size(0));
  out += std::string(query_width + next_width + 4, ' ');
  for (size_t column = 0; column < columns; ++column) {
    out += pad_left(column < sentence.source_tokens.size() ? sentence.source_tokens[column] : "?",
                    widths[column]);
  }
  out += '\n';
  for (size_t row = 0; row < rows; ++row) {
    const auto [query, next] = label_of(row);
    std::string line = pad_right(query, query_width) + " -> " + pad_right(next, next_width);
    for (size_t column = 0; column < columns; ++column) {
      const float percent = 100.0F * weights[row * columns + column];
      line +=
          pad_left(std::isfinite(percent) ? fmt::format("{:.0f}", percent) : "nan", widths[column]);
    }
    out += line + '\n';
  }
  return out;
}

}  // namespace qkv
