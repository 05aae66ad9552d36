// A parallel corpus read from two line-aligned files: line i of the source file translates
// line i of the target file. Never misaligns: a count mismatch is an error, and an empty line
// drops its whole pair.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace qkv {

/// One translation pair, UTF-8, stripped of surrounding whitespace.
struct SentencePair {
  std::string source;
  std::string target;
};

inline bool operator==(const SentencePair& a, const SentencePair& b) {
  return a.source == b.source && a.target == b.target;
}
inline bool operator!=(const SentencePair& a, const SentencePair& b) { return !(a == b); }

struct ParallelCorpus {
  std::vector<SentencePair> pairs;  // in file order
  int64_t empty_lines_skipped = 0;  // line pairs dropped because one side (or both) was empty
};

/// Reads two line-aligned UTF-8 files, each plain or gzip. Lines are stripped of surrounding
/// ASCII whitespace; a pair whose source or target is then empty is skipped and counted.
/// Throws std::runtime_error when a file is missing (naming it), when a line is invalid UTF-8
/// (naming file and line), or when the line counts differ (naming both files and both counts).
ParallelCorpus read_parallel_corpus(const std::filesystem::path& source_path,
                                    const std::filesystem::path& target_path);

/// `text` without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r).
std::string_view strip_whitespace(std::string_view text);

}  // namespace qkv
