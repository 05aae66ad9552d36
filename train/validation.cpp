// Validation during training (see validation.h): 1. loss over every validation example,
// 2. greedy translations of a capped sample, scored as `qkv evaluate` scores them.
#include "train/validation.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "data/batching.h"
#include "data/special_tokens.h"
#include "inference/evaluation.h"
#include "model/device.h"
#include "train/loss.h"

namespace qkv {

ValidationResult validate(Translator& translator,
                          const std::vector<Example>& examples,
                          const std::vector<SentencePair>& pairs,
                          int64_t max_sentences,
                          int64_t max_tokens) {
  ValidationResult result;
  Transformer& model = translator.model();
  model->eval();
  torch::NoGradGuard no_grad;

  // 1. Loss and perplexity over every validation example (no label smoothing: it is a
  //    training device, not part of the model's probability).
  if (!examples.empty()) {
    BatchingOptions batching;
    // Validation keeps long sentences that training skips: let each fit a batch on its own.
    int64_t longest = 0;
    for (const auto& e : examples) {
      longest = std::max<int64_t>(
          longest, static_cast<int64_t>(std::max(e.source.size(), e.target.size())) + 1);
    }
    batching.max_tokens = std::max(max_tokens, longest);
    batching.shuffle = false;
    double nll_sum = 0;
    int64_t tokens = 0;
    for (const auto& indices : plan_batches(examples, batching, /*epoch=*/0)) {
      const Batch batch = to_device(collate(examples, indices), device_of(*model));
      const auto logits = model->forward(batch.src, batch.tgt_in);
      const TokenLoss loss = label_smoothed_loss(logits, batch.tgt_out, 0.0, kPadId);
      nll_sum += loss.nll_sum.item<double>();
      tokens += batch.num_target_tokens;
    }
    result.loss = tokens > 0 ? nll_sum / static_cast<double>(tokens) : 0.0;
    result.perplexity = std::exp(result.loss);
  }

  // 2. Greedy translations of the first max_sentences pairs, scored like sacreBLEU.
  const auto count = std::min<int64_t>(max_sentences, static_cast<int64_t>(pairs.size()));
  if (count > 0) {
    std::vector<std::string> sources, references;
    for (int64_t i = 0; i < count; ++i) {
      sources.push_back(pairs[i].source);
      references.push_back(pairs[i].target);
    }
    TranslateOptions options;
    options.decode.beam_size = 1;
    options.max_tokens = max_tokens;
    const Evaluation scored = evaluate(translator, sources, references, options);
    const auto& hypotheses = scored.hypotheses;
    result.bleu = scored.bleu.score;
    result.chrf = scored.chrf.score;
    result.sentences = count;
    for (int64_t i = 0; i < std::min<int64_t>(3, count); ++i) {
      result.samples.push_back({sources[i], hypotheses[i], references[i]});
    }
  }
  return result;
}

}  // namespace qkv
