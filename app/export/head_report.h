// The text outputs of `qkv heads` (train/head_importance.h): heads.json and the terminal
// table. The figures are head_figures.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "train/head_importance.h"

namespace qkv {

/// Where a study came from, for heads.json.
struct HeadStudySource {
  std::string run;         ///< run directory
  std::string checkpoint;  ///< checkpoint file
  int64_t step = 0;        ///< its training step
  std::string split;       ///< "valid" or "test"
  double seconds = 0;      ///< wall-clock time of the study
};

/// One sentence saying how `study` was measured: what ranks the heads, on how many sentences
/// the metric is computed and how (also printed by the table).
std::string head_study_method(const HeadStudy& study);

/// The heads.json text: the source, the method, the full model's scores, every head, site and
/// layer switched off (score and importance), and the pruning curve.
std::string heads_json(const HeadStudy& study, const HeadStudySource& source);

/// Writes heads_json() and a newline to `path` atomically (data/io/atomic_file.h). Throws
/// std::runtime_error "cannot write <path>: ...".
void write_heads_json(const std::filesystem::path& path,
                      const HeadStudy& study,
                      const HeadStudySource& source);

/// The terminal table: the method, then importance as sites x heads (plus the whole site),
/// the layers, and the pruning curve step by step.
std::string heads_table(const HeadStudy& study);

}  // namespace qkv
