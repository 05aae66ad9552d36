// PNG heatmaps of attention sites (see attention_png.h).
#include "app/export/attention_png.h"

#include <fmt/format.h>

#include <cctype>

#include "app/export/site_description.h"
#include "data/io/utf8.h"

namespace qkv {
namespace {

std::vector<std::string> query_labels(const SentenceAttention& sentence, AttentionType type) {
  if (type == AttentionType::kEncoderSelf) return sentence.source_tokens;
  std::vector<std::string> labels;
  for (size_t t = 0; t < sentence.target_tokens.size(); ++t) {
    const std::string next =
        t < sentence.predicted_tokens.size() ? sentence.predicted_tokens[t] : "?";
    labels.push_back(sentence.target_tokens[t] + " \u2192 " + next);
  }
  return labels;
}

std::string layer_name(const SiteAttention& site) {
  return fmt::format(
      "{} layer {}", site.type == AttentionType::kEncoderSelf ? "encoder" : "decoder", site.layer);
}

// At most 90 characters (UTF-8 aware), with "…" when cut: titles stay one line.
std::string shortened(const std::string& text) {
  const std::string_view kept = code_point_prefix(text, /*max_code_points=*/90);
  return kept.size() < text.size() ? std::string(kept) + "\u2026" : text;
}

std::string capitalised(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

HeatmapFigure site_figure(const SentenceAttention& sentence,
                          const SiteAttention& site,
                          bool mean_of_heads) {
  const int64_t heads = site.weights.size(0);
  HeatmapFigure figure;
  figure.title = fmt::format(
      "{}, {}: {}",
      capitalised(attention_title(site.type)),
      layer_name(site),
      mean_of_heads ? fmt::format("mean of {} heads", heads) : fmt::format("all {} heads", heads));
  const std::string rows = site.type == AttentionType::kEncoderSelf
                               ? "source positions"
                               : "decoder positions (token fed \u2192 token predicted)";
  const std::string columns =
      key_stream(site.type) == "source" ? "source tokens" : "decoder positions (token fed)";
  figure.notes = {
      fmt::format("rows = queries: {}  \u00b7  columns = keys: {}  \u00b7  each row sums to 1",
                  rows,
                  columns),
      fmt::format("{}  \u00b7  {}  \u00b7  d_head = {}",
                  site.site,
                  qkv_origin_short(site.type),
                  sentence.d_head()),
      fmt::format("source: \u201c{}\u201d  \u00b7  target ({}): \u201c{}\u201d",
                  shortened(sentence.source_text),
                  sentence.forced ? "given, teacher-forced" : "model's translation",
                  shortened(sentence.target_text))};
  figure.row_labels = query_labels(sentence, site.type);
  figure.column_labels =
      site.type == AttentionType::kEncoderSelf || site.type == AttentionType::kCross
          ? sentence.source_tokens
          : sentence.target_tokens;
  if (site.type == AttentionType::kDecoderSelf) {
    const int64_t t = site.weights.size(1);
    figure.keep_mask = torch::ones({t, t}, torch::kBool).tril();  // [T, T], true = may attend
    figure.mask_legend = "masked (future)";
  }
  if (mean_of_heads) {
    figure.panels.push_back({fmt::format("mean of {} heads", heads), site.weights.mean(0)});
  } else {
    for (int64_t h = 0; h < heads; ++h) {
      figure.panels.push_back({fmt::format("head {}", h), site.weights[h]});
    }
  }
  return figure;
}

std::vector<std::filesystem::path> write_attention_pngs(const std::filesystem::path& dir,
                                                        const SentenceAttention& sentence) {
  std::filesystem::create_directories(dir);
  std::vector<std::filesystem::path> written;
  for (const SiteAttention& site : sentence.sites) {
    written.push_back(dir / (site.site + ".png"));
    write_heatmap_png(written.back(), site_figure(sentence, site, /*mean_of_heads=*/false));
    written.push_back(dir / (site.site + ".mean.png"));
    write_heatmap_png(written.back(), site_figure(sentence, site, /*mean_of_heads=*/true));
  }
  return written;
}

}  // namespace qkv
