// Encoding and length filtering of parallel text (see dataset.h).
#include "data/dataset.h"

#include <algorithm>

namespace qkv {

EncodedCorpus encode_corpus(const std::vector<SentencePair>& pairs,
                            const Tokenizer& tokenizer,
                            int64_t max_length) {
  EncodedCorpus corpus;
  corpus.examples.reserve(pairs.size());
  corpus.pair_indices.reserve(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    Example example{tokenizer.encode(pairs[i].source), tokenizer.encode(pairs[i].target)};
    if (example.source.empty() || example.target.empty()) {
      ++corpus.dropped_empty;
      continue;
    }
    const auto longest =
        static_cast<int64_t>(std::max(example.source.size(), example.target.size()));
    if (max_length > 0 && longest > max_length) {
      ++corpus.dropped_too_long;
      continue;
    }
    corpus.examples.push_back(std::move(example));
    corpus.pair_indices.push_back(static_cast<int64_t>(i));
  }
  return corpus;
}

std::vector<std::string> joint_sentences(const std::vector<SentencePair>& pairs) {
  std::vector<std::string> sentences;
  sentences.reserve(2 * pairs.size());
  for (const SentencePair& pair : pairs) {
    sentences.push_back(pair.source);
    sentences.push_back(pair.target);
  }
  return sentences;
}

}  // namespace qkv
