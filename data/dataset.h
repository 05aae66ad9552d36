// Sentence pairs -> token-id examples: encoding with the tokenizer and the training length
// filter. Special tokens (bos/eos) are not added here; batching adds them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/parallel_corpus.h"
#include "data/tokenizer.h"

namespace qkv {

/// One translation pair as token ids, without special tokens. Neither side is empty.
struct Example {
  std::vector<int64_t> source;
  std::vector<int64_t> target;
};

struct EncodedCorpus {
  std::vector<Example> examples;
  std::vector<int64_t> pair_indices;  // examples[i] was made from pairs[pair_indices[i]]
  int64_t dropped_too_long = 0;       // pairs with a side over max_length tokens
  int64_t dropped_empty = 0;          // pairs with a side that encodes to no tokens
};

/// Encodes every pair. Pairs with a side longer than `max_length` tokens are dropped and
/// counted (max_length <= 0 keeps all lengths); so are pairs with a side of zero tokens, since
/// an empty sequence would leave a query with nothing to attend to.
EncodedCorpus encode_corpus(const std::vector<SentencePair>& pairs,
                            const Tokenizer& tokenizer,
                            int64_t max_length);

/// Source and target sentences of `pairs` in one list (source, target, source, ...): the text a
/// joint tokenizer is trained on.
std::vector<std::string> joint_sentences(const std::vector<SentencePair>& pairs);

}  // namespace qkv
