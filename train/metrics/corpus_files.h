// Reading hypothesis and reference files for scoring, as sacreBLEU's command line reads them:
// UTF-8, one segment per '\n'-terminated line (a missing final newline is fine), trailing
// whitespace removed with Python's str.rstrip() (so "\r\n" files work). The lines come from
// data/io's line reader (read_text_lines), keeping a byte-order mark as Python does.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace qkv {

/// The segments of a UTF-8 text file (plain or gzip). Throws std::runtime_error naming the file
/// when it is missing or unreadable, and naming file and line ("<path>:<line>: invalid
/// UTF-8; ...") on invalid UTF-8.
std::vector<std::string> read_segments(const std::filesystem::path& path);

/// Two line-aligned files' segments, e.g. sources and references.
struct AlignedSegments {
  std::vector<std::string> first;
  std::vector<std::string> second;
};

/// Reads both files; when their line counts differ, throws std::invalid_argument naming both,
/// e.g. "sources a.txt have 3 lines but references b.txt have 2; they must be line-aligned"
/// for labels "sources" and "references" (and the errors of read_segments).
AlignedSegments read_aligned_segments(const std::filesystem::path& first_path,
                                      const std::string& first_label,
                                      const std::filesystem::path& second_path,
                                      const std::string& second_label);

/// Hypotheses and references read from two files of the same length.
struct HypRefSegments {
  std::vector<std::string> hyps;
  std::vector<std::string> refs;
};

/// read_aligned_segments with the labels "hypotheses" and "references".
HypRefSegments read_hyp_ref_segments(const std::filesystem::path& hyp_path,
                                     const std::filesystem::path& ref_path);

}  // namespace qkv
