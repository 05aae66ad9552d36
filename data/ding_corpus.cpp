// Ding dictionary -> cleaned English-German sentence pairs. Steps per entry:
//   1. split "German :: English", then both sides into aligned " | " sub-entries;
//   2. per sub-entry side: drop annotations, split ";" variants, normalise, keep the first
//      variant that is a full sentence (one pair per sub-entry: variants of one headword are
//      paraphrases, and keeping them all would leak near-copies across the hash split);
//   3. apply the cleaning rules in DingExtractionCounts order; the first rule that fires wins.
#include "data/ding_corpus.h"

#include <stdexcept>
#include <unordered_set>

#include "data/ding_cleaning.h"
#include "data/io/text_file.h"

namespace qkv {
namespace {

constexpr double kMaxLengthRatio = 2.2;

// Splits `text` at every occurrence of `separator`.
std::vector<std::string_view> split_all(std::string_view text, std::string_view separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t end = text.find(separator); end != std::string_view::npos;
       end = text.find(separator, start)) {
    parts.push_back(text.substr(start, end - start));
    start = end + separator.size();
  }
  parts.push_back(text.substr(start));
  return parts;
}

// The first ";" variant of a sub-entry that is a full sentence once cleaned, or "".
std::string first_sentence_variant(std::string_view sub_entry) {
  const std::string without_annotations = strip_ding_annotations(sub_entry);
  for (const std::string_view variant : split_all(without_annotations, ";")) {
    std::string text = normalize_sentence_text(variant);
    if (is_full_sentence(text)) return text;
  }
  return {};
}

enum class Verdict { kKeep, kDrop };

// Applies the cleaning rules to one pair (may rewrite it) and counts the rule that fired.
Verdict clean_pair(SentencePair& pair,
                   std::unordered_set<std::string>& seen,
                   DingExtractionCounts& counts) {
  std::string& english = pair.source;
  std::string& german = pair.target;
  if (has_slash_alternatives(english) || has_slash_alternatives(german)) {
    ++counts.slash_alternatives;
    return Verdict::kDrop;
  }
  if (has_ellipsis(english) || has_ellipsis(german)) {
    ++counts.ellipsis_templates;
    return Verdict::kDrop;
  }
  if (has_placeholder(english) || has_placeholder(german)) {
    ++counts.placeholders;
    return Verdict::kDrop;
  }
  const auto has_parenthesis = [](const std::string& s) {
    return s.find_first_of("()") != std::string::npos;
  };
  if (has_parenthesis(english) || has_parenthesis(german)) {
    auto english_kept = remove_optional_material(english);
    auto german_kept = remove_optional_material(german);
    if (!english_kept || !german_kept) {
      ++counts.parentheses_dropped;
      return Verdict::kDrop;
    }
    ++counts.parentheses_removed;
    english = std::move(*english_kept);
    german = std::move(*german_kept);
  }
  if (languages_look_swapped(german, english)) {
    ++counts.swapped_languages;
    return Verdict::kDrop;
  }
  if (length_ratio_exceeds(english, german, kMaxLengthRatio)) {
    ++counts.length_ratio;
    return Verdict::kDrop;
  }
  if (!seen.insert(english + '\t' + german).second) {
    ++counts.duplicates;
    return Verdict::kDrop;
  }
  return Verdict::kKeep;
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> DingExtractionCounts::rule_counts() const {
  return {{"dictionary entries", entries},
          {"malformed entries skipped", malformed_entries},
          {"sentence pairs found", sentence_pairs},
          {"dropped: slash alternatives", slash_alternatives},
          {"dropped: ... templates", ellipsis_templates},
          {"dropped: sb./sth./jdm./etw. placeholders", placeholders},
          {"kept: (optional material) removed", parentheses_removed},
          {"dropped: parentheses left no clean sentence", parentheses_dropped},
          {"dropped: languages swapped", swapped_languages},
          {"dropped: length ratio over 2.2", length_ratio},
          {"dropped: duplicates", duplicates},
          {"kept", kept}};
}

DingSentences extract_ding_sentences(const std::vector<std::string>& lines) {
  DingSentences result;
  DingExtractionCounts& counts = result.counts;
  std::unordered_set<std::string> seen;
  for (const std::string& line : lines) {
    if (line.empty() || line[0] == '#') continue;  // header comments
    ++counts.entries;
    const std::size_t arrow = line.find(" :: ");
    if (arrow == std::string::npos) {
      ++counts.malformed_entries;
      continue;
    }
    const std::string_view view(line);
    const auto german_parts = split_all(view.substr(0, arrow), " | ");
    const auto english_parts = split_all(view.substr(arrow + 4), " | ");
    if (german_parts.size() != english_parts.size()) {
      ++counts.malformed_entries;
      continue;
    }
    for (std::size_t i = 0; i < german_parts.size(); ++i) {
      SentencePair pair{first_sentence_variant(english_parts[i]),
                        first_sentence_variant(german_parts[i])};
      if (pair.source.empty() || pair.target.empty()) continue;
      ++counts.sentence_pairs;
      if (clean_pair(pair, seen, counts) == Verdict::kKeep) {
        result.pairs.push_back(std::move(pair));
      }
    }
  }
  counts.kept = static_cast<int64_t>(result.pairs.size());
  return result;
}

DingSentences read_ding_sentences(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw std::runtime_error(
        "Ding dictionary " + path.string() +
        " not found: install Debian's trans-de-en package (sudo apt-get install trans-de-en), "
        "or set data.raw_dir to a folder holding its de-en file");
  }
  return extract_ding_sentences(read_text_lines(path));
}

}  // namespace qkv
