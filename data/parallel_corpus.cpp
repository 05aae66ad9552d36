// Reads line-aligned parallel files; see parallel_corpus.h for the rules on bad input.
#include "data/parallel_corpus.h"

#include <stdexcept>

#include "data/io/text_file.h"

namespace qkv {

std::string_view strip_whitespace(std::string_view text) {
  constexpr std::string_view kWhitespace = " \t\n\v\f\r";
  const std::size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

ParallelCorpus read_parallel_corpus(const std::filesystem::path& source_path,
                                    const std::filesystem::path& target_path) {
  const std::vector<std::string> source_lines = read_text_lines(source_path);
  const std::vector<std::string> target_lines = read_text_lines(target_path);
  if (source_lines.size() != target_lines.size()) {
    throw std::runtime_error("line counts differ: " + source_path.string() + " has " +
                             std::to_string(source_lines.size()) + " lines but " +
                             target_path.string() + " has " + std::to_string(target_lines.size()) +
                             "; the files must be line-aligned translations of each other");
  }
  ParallelCorpus corpus;
  corpus.pairs.reserve(source_lines.size());
  for (std::size_t i = 0; i < source_lines.size(); ++i) {
    const std::string_view source = strip_whitespace(source_lines[i]);
    const std::string_view target = strip_whitespace(target_lines[i]);
    if (source.empty() || target.empty()) {
      ++corpus.empty_lines_skipped;
      continue;
    }
    corpus.pairs.push_back({std::string(source), std::string(target)});
  }
  return corpus;
}

}  // namespace qkv
