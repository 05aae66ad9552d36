// Segment files for scoring (see corpus_files.h).
#include "train/metrics/corpus_files.h"

#include <stdexcept>
#include <utility>

#include "data/io/text_file.h"
#include "train/metrics/unicode_text.h"

namespace qkv {

std::vector<std::string> read_segments(const std::filesystem::path& path) {
  LineReading reading;
  reading.strip_byte_order_mark = false;  // Python's "utf-8" codec keeps it, so sacreBLEU does
  std::vector<std::string> segments = read_text_lines(path, reading);
  for (std::string& segment : segments) segment = encode_utf8(python_rstrip(decode_utf8(segment)));
  return segments;
}

AlignedSegments read_aligned_segments(const std::filesystem::path& first_path,
                                      const std::string& first_label,
                                      const std::filesystem::path& second_path,
                                      const std::string& second_label) {
  AlignedSegments out;
  out.first = read_segments(first_path);
  out.second = read_segments(second_path);
  if (out.first.size() != out.second.size()) {
    throw std::invalid_argument(first_label + " " + first_path.string() + " have " +
                                std::to_string(out.first.size()) + " lines but " + second_label +
                                " " + second_path.string() + " have " +
                                std::to_string(out.second.size()) + "; they must be line-aligned");
  }
  return out;
}

HypRefSegments read_hyp_ref_segments(const std::filesystem::path& hyp_path,
                                     const std::filesystem::path& ref_path) {
  AlignedSegments segments = read_aligned_segments(hyp_path, "hypotheses", ref_path, "references");
  return {std::move(segments.first), std::move(segments.second)};
}

}  // namespace qkv
