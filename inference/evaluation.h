// Evaluation of a trained model on a test set: translate the sources, then score the best
// translations against the references with corpus BLEU and chrF, computed as sacreBLEU does
// by default (train/metrics/). `qkv evaluate` (app/cmd_evaluate.cpp) is a shell over this.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/config.h"
#include "inference/translator.h"
#include "train/metrics/bleu.h"
#include "train/metrics/chrf.h"

namespace qkv {

/// Line-aligned sources and references, with where each came from (for reports).
struct TestSet {
  std::vector<std::string> sources;
  std::vector<std::string> references;
  std::string source_name;     ///< the sources' file
  std::string reference_name;  ///< the references' file
};

/// Sources and references from two files read as sacreBLEU reads them
/// (train/metrics/corpus_files.h). Throws std::invalid_argument naming both files when their
/// line counts differ, and the errors of read_segments.
TestSet read_test_set(const std::filesystem::path& sources,
                      const std::filesystem::path& references);

/// The run's own `split` ("test" or "valid") of the corpus `data` describes, from its prepared
/// folder when a complete preparation is there (the raw files need not be reachable any more),
/// else prepared first (data/prepare.h find_or_prepare_corpus). Throws std::invalid_argument
/// for another split name and std::runtime_error when the corpus has no such split.
TestSet prepared_test_set(const DataConfig& data, const std::string& split);

/// What evaluate() found.
struct Evaluation {
  std::vector<std::string> hypotheses;  ///< the best translation of each source, in order
  BleuScore bleu;                       ///< corpus BLEU (sacreBLEU defaults)
  ChrfScore chrf;                       ///< chrF2 (sacreBLEU defaults)
  double seconds = 0;                   ///< wall-clock time of the translation alone
  double sentences_per_second() const { return hypotheses.size() / seconds; }
};

/// Translates `sources` with `options` and scores the best hypotheses against `references`
/// (line-aligned). Throws std::invalid_argument when the two differ in length.
Evaluation evaluate(Translator& translator,
                    const std::vector<std::string>& sources,
                    const std::vector<std::string>& references,
                    const TranslateOptions& options);

}  // namespace qkv
