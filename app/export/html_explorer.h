// The HTML explorer: one self-contained page (inline CSS, JS and data, no network access) to
// look at every attention map of one or more sentences: pick the type, layer and head; hover
// tokens (bertviz-style head view) and the heatmap; follow one query step by step from its q
// vector to the head output; and, when the run has probe snapshots, watch cross-attention
// form over training with a slider. The page itself lives in app/export/explorer/.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "inference/attention_maps.h"

namespace qkv {

struct ExplorerOptions {
  std::string title;                                  ///< shown under the heading
  std::vector<std::filesystem::path> timeline_files;  ///< RUN/attention/step-<N>.json, in order
};

/// The page for `sentences` (each collected with keep_projections: the explainer needs q, k,
/// v). Throws std::invalid_argument for no sentences or missing projections, and
/// std::runtime_error for an unreadable or malformed timeline file.
std::string explorer_html(const std::vector<SentenceAttention>& sentences,
                          const ExplorerOptions& options);

/// Writes explorer_html() to `path`. Throws std::runtime_error naming the path on failure.
void write_html_explorer(const std::filesystem::path& path,
                         const std::vector<SentenceAttention>& sentences,
                         const ExplorerOptions& options);

}  // namespace qkv
