// DataConfig: which parallel corpus to use and how to tokenise it (the `data:` section of an
// experiment YAML). A plain struct; train/experiment_config.cpp parses and validates it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace qkv {

/// data.tokenizer: the SentencePiece model type. The table is the YAML spelling (and
/// SentencePiece's own name for the type); train/enum_names.h reads it.
enum class TokenizerType { kUnigram, kBpe };
constexpr std::array<std::pair<TokenizerType, const char*>, 2> enum_names(TokenizerType) {
  return {{{TokenizerType::kUnigram, "unigram"}, {TokenizerType::kBpe, "bpe"}}};
}

struct DataConfig {
  std::string corpus = "ding-en-de";  // ding-en-de | multi30k-en-de | tatoeba-en-ru | files
  std::string source_lang = "en";     // language code of the source side
  std::string target_lang = "de";     // language code of the target side
  std::string prepared_dir;           // where the splits are written; empty = cache default
  std::string raw_dir;                // raw files of multi30k/tatoeba; empty = auto-detect
  std::string train_source;           // corpus "files": training source file (plain or .gz)
  std::string train_target;           // corpus "files": training target file
  std::string valid_source;           // corpus "files": validation source file
  std::string valid_target;           // corpus "files": validation target file
  std::string test_source;            // corpus "files": test source file (optional)
  std::string test_target;            // corpus "files": test target file (optional)
  int64_t vocab_size = 8000;          // SentencePiece vocabulary size (joint source+target)
  TokenizerType tokenizer = TokenizerType::kUnigram;  // unigram | bpe
  double character_coverage = 1.0;                    // SentencePiece character coverage
  int64_t max_length = 100;  // training pairs longer than this (tokens) are skipped

  /// Calls v(name, member, doc) for every field, in file order (see ModelConfig).
  template <class Visitor>
  void visit_fields(Visitor& v) {
    v("corpus", corpus, "ding-en-de | multi30k-en-de | tatoeba-en-ru | files");
    v("source_lang", source_lang, "language code of the source side");
    v("target_lang", target_lang, "language code of the target side");
    v("prepared_dir",
      prepared_dir,
      "where prepared splits go; empty = ~/.cache/qkv/corpora/<corpus>");
    v("raw_dir",
      raw_dir,
      "raw multi30k/tatoeba files; empty = $QKV_DATA_DIR, ~/.cache/qkv/data (scripts/get_*.sh) or "
      "../shared/data");
    v("train_source", train_source, "corpus files: training source file (plain or .gz)");
    v("train_target", train_target, "corpus files: training target file (plain or .gz)");
    v("valid_source", valid_source, "corpus files: validation source file");
    v("valid_target", valid_target, "corpus files: validation target file");
    v("test_source", test_source, "corpus files: test source file (optional)");
    v("test_target", test_target, "corpus files: test target file (optional)");
    v("vocab_size", vocab_size, "SentencePiece vocabulary size, joint over source and target");
    v("tokenizer", tokenizer, "unigram | bpe (SentencePiece model type)");
    v("character_coverage", character_coverage, "SentencePiece character coverage (0, 1]");
    v("max_length", max_length, "training pairs longer than this many tokens are skipped");
  }
};

}  // namespace qkv
