// `prepare`: turns a corpus named in the `data:` config into line-aligned split files
//   DIR/{train,valid,test}.{<source_lang>,<target_lang>}
// plus a stamp file recording the inputs and the counts. Built-in corpora:
//   ding-en-de      (default) sentence pairs of Debian's Ding dictionary, hash split
//   multi30k-en-de  the public benchmark: train, val and test_2016_flickr as published
//   tatoeba-en-ru   one Tatoeba file pair, hash split
//   files           the config's own train/valid/(test) files, plain or .gz
// Hash split = split.h (the peer trainer's --split-hash rule on the English side).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/config.h"
#include "data/parallel_corpus.h"

namespace qkv {

/// One prepared split: two line-aligned UTF-8 files.
struct PreparedSplit {
  std::filesystem::path source;  // DIR/<split>.<source_lang>; empty when the split is absent
  std::filesystem::path target;  // DIR/<split>.<target_lang>
  int64_t pairs = 0;
};

struct PreparedCorpus {
  std::string corpus;       // data.corpus
  std::string source_lang;  // data.source_lang
  std::string target_lang;  // data.target_lang
  std::filesystem::path dir;
  PreparedSplit train;
  PreparedSplit valid;
  PreparedSplit test;  // absent (empty paths) only for corpus "files" without test files
  std::vector<std::pair<std::string, int64_t>> rule_counts;  // reading/cleaning counts, in order
  bool reused = false;  // true when a complete earlier prepare of the same inputs was kept
};

/// Names of the built-in corpora ("files" included).
std::vector<std::string> corpus_names();

/// The two languages of a built-in corpus, English first, e.g. {"en", "ru"}. Throws
/// std::invalid_argument for "files" and unknown names (listing the valid ones).
std::pair<std::string, std::string> corpus_languages(const std::string& corpus);

/// Writes the splits of `config.corpus` (see the file comment) into config.prepared_dir, or
/// default_prepared_dir(corpus) when empty. Files appear atomically and the stamp last, so an
/// interrupted run never looks complete; a complete run with the same inputs is reused.
/// Throws std::invalid_argument for a bad config (unknown corpus, languages that do not match
/// the corpus) and std::runtime_error for missing or bad input files.
PreparedCorpus prepare_corpus(const DataConfig& config);

/// The splits a trained run is evaluated on: a complete earlier preparation of the same corpus
/// and languages in the prepared folder, as it is, even when its raw files are no longer where
/// they were or have changed since (the run was trained on these splits); else
/// prepare_corpus(config). Throws as prepare_corpus.
PreparedCorpus find_or_prepare_corpus(const DataConfig& config);

/// Reads a prepared split back (empty when the split is absent).
std::vector<SentencePair> read_prepared_split(const PreparedSplit& split);

}  // namespace qkv
