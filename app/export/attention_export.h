// `qkv attention` output directory (scripts and tools rely on this layout):
//   OUT/index.html                                  explorer for all sentences
//   OUT/<i>/attention.json                          sentence i (0-based): tokens, shapes, maps
//   OUT/<i>/npy/index.json                          what each .npy file holds (axes, shapes)
//   OUT/<i>/npy/<site>.weights.npy                  [H, Tq, Tk] float32, rows = queries
//   OUT/<i>/npy/<site>.{query,key,value,output}.npy [H, T, d_head] (with vectors)
//   OUT/<i>/png/<site>.png, <site>.mean.png         heatmaps: all heads, mean of heads
//   <site> = encoder.<l>.self_attn | decoder.<l>.self_attn | decoder.<l>.cross_attn
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "inference/attention_maps.h"

namespace qkv {

struct ExportOptions {
  bool json = true;
  bool npy = true;
  bool png = true;
  bool html = true;
  bool vectors = false;                               ///< q, k, v, head outputs in JSON/NPY
  std::vector<std::filesystem::path> timeline_files;  ///< probe snapshots for the HTML
  std::string title;                                  ///< HTML heading, e.g. the run
};

/// Sets options.{json,npy,png,html} from a comma-separated list such as "json,png". Throws
/// std::invalid_argument naming an unknown format and the valid ones, or for an empty list.
void set_formats(ExportOptions& options, const std::string& list);

/// True when the chosen outputs need q, k, v recorded (--vectors, or the HTML explainer).
bool needs_projections(const ExportOptions& options);

/// Writes OUT/<i>/npy/<site>.weights.npy (+ vectors) and OUT/<i>/npy/index.json into `dir`
/// (created); index.json is npy_index_json() (app/export/attention_json.h). Throws
/// std::invalid_argument before writing anything when vectors are asked for but were not
/// recorded.
void write_attention_npy(const std::filesystem::path& dir,
                         const SentenceAttention& sentence,
                         bool vectors);

/// Writes the layout above into `out` (created) for the formats in `options`. Returns the
/// number of files written. Throws std::runtime_error naming a file that cannot be written.
int64_t export_attention(const std::filesystem::path& out,
                         const std::vector<SentenceAttention>& sentences,
                         const ExportOptions& options);

}  // namespace qkv
