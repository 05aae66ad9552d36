// Validation during training: loss and perplexity on the validation set, and greedy-decode
// BLEU and chrF on (a capped sample of) it, with a few sample translations for the log.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/parallel_corpus.h"
#include "inference/translator.h"

namespace qkv {

struct ValidationResult {
  double loss = 0;        // label-smoothing-free cross-entropy per target token (nats)
  double perplexity = 0;  // exp(loss)
  double bleu = 0;        // corpus BLEU (sacreBLEU defaults) of greedy translations
  double chrf = 0;        // chrF2
  int64_t sentences = 0;  // sentences translated for BLEU/chrF
  struct Sample {
    std::string source, hypothesis, reference;
  };
  std::vector<Sample> samples;  // the first three
};

/// `examples` are the encoded validation pairs (for the loss), `pairs` the text (for BLEU);
/// at most `max_sentences` pairs are translated (0 = none). The model is left in eval mode.
ValidationResult validate(Translator& translator,
                          const std::vector<Example>& examples,
                          const std::vector<SentencePair>& pairs,
                          int64_t max_sentences,
                          int64_t max_tokens);

}  // namespace qkv
