// Segment files for scoring (see corpus_files.h).
#include "train/metrics/corpus_files.h"

#include <fstream>
#include <stdexcept>
#include <utility>

#include "train/metrics/unicode_text.h"

namespace qkv {

std::vector<std::string> read_segments(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw std::runtime_error(
        "cannot read " + path.string() +
        (std::filesystem::exists(path, error) ? ": not a regular file" : ": no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path.string());
  }
  std::vector<std::string> segments;
  std::string line;
  while (std::getline(in, line)) {
    std::u32string text;
    try {
      text = decode_utf8(line);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(path.string() + ":" + std::to_string(segments.size() + 1) + ": " +
                                  e.what());
    }
    segments.push_back(encode_utf8(python_rstrip(text)));
  }
  if (in.bad()) {
    throw std::runtime_error("error while reading " + path.string());
  }
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
