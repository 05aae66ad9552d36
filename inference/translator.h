// Translator: text in, text out, for a trained model and its tokenizer. Encodes and sorts the
// sentences by length, batches them, runs greedy or beam search (model/search.h) and restores
// the input order. Used by validation, `qkv translate`, `qkv evaluate` and `qkv attention`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "model/search.h"
#include "model/transformer.h"
#include "train/config.h"

namespace qkv {

struct Translation {
  std::string text;             // detokenised translation
  std::vector<int64_t> tokens;  // target ids, without bos/eos
  double log_prob = 0;          // sum of token log-probabilities (eos included)
  double score = 0;             // log_prob with the length penalty applied (ranking score)
};

// Decoding's batch budget in source tokens (x beam). Smaller batches keep the key/value caches
// and activations in cache: `qkv translate --input test.en` (829 sentences, en-de-small, 2
// cores) made 355 / 649 / 731 sentences/s greedy in fp32 / bf16 / int8 at 1,024 against
// 313 / 456 / 497 at 4,096, and 97 against 81 with beam 4 in fp32 (README, Performance).
constexpr int64_t kDefaultDecodeBatchTokens = 1024;

struct TranslateOptions {
  DecodeConfig decode;  // beam size, length penalty, length limit a * source + b
  int64_t n_best = 1;   // hypotheses returned per sentence (<= beam size)
  int64_t max_tokens = kDefaultDecodeBatchTokens;  // batch budget in source tokens (x beam)
  int64_t max_source_tokens = 0;  // longer sources are truncated; 0 = model's limit
  int64_t max_output_tokens = 0;  // cap on output tokens; 0 = decode.max_length_a/b only
};

/// The search `Translator::translate` runs for `options` on a model with `max_positions`:
/// the decode config (train/decode_search.h), n_best capped at the beam size, and the output
/// limit min(floor(decode.max_length_a * source tokens + decode.max_length_b),
/// max_output_tokens if set, max_positions - 1).
SearchOptions search_options(const TranslateOptions& options, int64_t max_positions);

class Translator {
 public:
  /// `model` is switched to eval mode.
  Translator(Transformer model, const Tokenizer& tokenizer);

  /// One list of hypotheses (best first, `n_best` long) per sentence, in input order. Empty
  /// sentences give one empty hypothesis. `truncated`, when given, receives the indices of
  /// sentences whose source was cut to max_source_tokens.
  std::vector<std::vector<Translation>> translate(const std::vector<std::string>& sentences,
                                                  const TranslateOptions& options,
                                                  std::vector<int64_t>* truncated = nullptr);

  /// Longest source (tokens, eos excluded) the model accepts.
  int64_t max_source_tokens() const;
  Transformer& model() { return model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  Transformer model_;
  const Tokenizer& tokenizer_;
};

}  // namespace qkv
