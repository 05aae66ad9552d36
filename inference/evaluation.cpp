// Translate-and-score evaluation (see evaluation.h).
#include "inference/evaluation.h"

#include <chrono>
#include <stdexcept>

#include "data/prepare.h"
#include "train/metrics/corpus_files.h"

namespace qkv {

TestSet read_test_set(const std::filesystem::path& sources,
                      const std::filesystem::path& references) {
  AlignedSegments segments = read_aligned_segments(sources, "sources", references, "references");
  return {
      std::move(segments.first), std::move(segments.second), sources.string(), references.string()};
}

TestSet prepared_test_set(const DataConfig& data, const std::string& split) {
  if (split != "valid" && split != "test") {
    throw std::invalid_argument("--split: must be test or valid");
  }
  const PreparedCorpus corpus = find_or_prepare_corpus(data);
  const PreparedSplit& files = split == "valid" ? corpus.valid : corpus.test;
  if (files.source.empty()) throw std::runtime_error("the run's corpus has no " + split + " split");
  TestSet set;
  for (auto& pair : read_prepared_split(files)) {
    set.sources.push_back(std::move(pair.source));
    set.references.push_back(std::move(pair.target));
  }
  set.source_name = files.source.string();
  set.reference_name = files.target.string();
  return set;
}

Evaluation evaluate(Translator& translator,
                    const std::vector<std::string>& sources,
                    const std::vector<std::string>& references,
                    const TranslateOptions& options) {
  if (sources.size() != references.size()) {
    throw std::invalid_argument("evaluate: " + std::to_string(sources.size()) + " sources but " +
                                std::to_string(references.size()) + " references");
  }
  Evaluation evaluation;
  const auto start = std::chrono::steady_clock::now();
  const auto results = translator.translate(sources, options);
  evaluation.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& hypotheses : results) evaluation.hypotheses.push_back(hypotheses.front().text);
  evaluation.bleu = corpus_bleu(evaluation.hypotheses, references);
  evaluation.chrf = corpus_chrf(evaluation.hypotheses, references);
  return evaluation;
}

}  // namespace qkv
