// Segment files for scoring (see corpus_files.h).
#include "train/metrics/corpus_files.h"

#include <fstream>
#include <stdexcept>

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

HypRefSegments read_hyp_ref_segments(const std::filesystem::path& hyp_path,
                                     const std::filesystem::path& ref_path) {
  HypRefSegments out;
  out.hyps = read_segments(hyp_path);
  out.refs = read_segments(ref_path);
  if (out.hyps.size() != out.refs.size()) {
    throw std::invalid_argument("hypotheses " + hyp_path.string() + " have " +
                                std::to_string(out.hyps.size()) + " lines but references " +
                                ref_path.string() + " have " + std::to_string(out.refs.size()) +
                                "; they must be line-aligned");
  }
  return out;
}

}  // namespace qkv
