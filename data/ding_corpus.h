// English-German sentence pairs from the Ding dictionary that Debian's `trans-de-en` package
// installs (/usr/share/trans/de-en, GPL-2+). One entry per line, `German :: English`; each side
// is split into aligned sub-entries by " | "; a sub-entry lists `;`-separated variants and
// carries annotations such as {n}, [coll.] or <...>. About 19,500 sub-entries hold a full
// sentence on both sides (capitalised, ending in . ! or ?, at least 3 words); strict cleaning
// keeps about 16,800 of them. This file parses and cleans; it does not split (see split.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/parallel_corpus.h"

namespace qkv {

/// Where Debian's `trans-de-en` package installs the Ding dictionary.
inline constexpr const char* kDingDictionaryPath = "/usr/share/trans/de-en";

/// What the extraction did, rule by rule, in the order the rules apply (first match wins).
struct DingExtractionCounts {
  int64_t entries = 0;              // dictionary lines read (comments and blank lines excluded)
  int64_t malformed_entries = 0;    // skipped: no " :: ", or sides with different " | " counts
  int64_t sentence_pairs = 0;       // aligned sub-entries with a full sentence on both sides
  int64_t slash_alternatives = 0;   // dropped: "close/end" alternatives (no safe automatic pick)
  int64_t ellipsis_templates = 0;   // dropped: "..." or "…" templates
  int64_t placeholders = 0;         // dropped: sb./sth./jdm./jdn./jds./jd./etw. placeholders
  int64_t parentheses_removed = 0;  // kept: optional material "(...)" removed from the text
  int64_t parentheses_dropped = 0;  // dropped: nested/unbalanced "()", or no sentence left
  int64_t swapped_languages = 0;    // dropped: the German side reads English and vice versa
  int64_t length_ratio = 0;         // dropped: one side over 2.2 times as long (loose paraphrase)
  int64_t duplicates = 0;           // dropped: the same (English, German) pair seen before
  int64_t kept = 0;                 // pairs returned

  /// The cleaning counts as (name, count) in rule order, for reports.
  std::vector<std::pair<std::string, int64_t>> rule_counts() const;
};

struct DingSentences {
  std::vector<SentencePair> pairs;  // source = English, target = German, in dictionary order
  DingExtractionCounts counts;
};

/// Extracts and cleans the sentence pairs of Ding dictionary lines (see the file comment).
/// Per sub-entry it takes the first variant that is a full sentence on each side.
DingSentences extract_ding_sentences(const std::vector<std::string>& lines);

/// Reads the dictionary file and extracts its sentence pairs. Throws std::runtime_error when
/// the file is missing, saying to install the `trans-de-en` package.
DingSentences read_ding_sentences(const std::filesystem::path& path = kDingDictionaryPath);

}  // namespace qkv
