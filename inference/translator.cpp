// Translator (see translator.h): encode, sort by length, batch, search, restore the order.
#include "inference/translator.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "data/batching.h"
#include "model/device.h"
#include "train/decode_search.h"

namespace qkv {

SearchOptions search_options(const TranslateOptions& options, int64_t max_positions) {
  SearchOptions search = search_options_for(options.decode);
  search.n_best = std::min(options.n_best, options.decode.beam_size);
  search.max_length = max_positions - 1;
  if (options.max_output_tokens > 0)
    search.max_length = std::min(search.max_length, options.max_output_tokens);
  return search;
}

Translator::Translator(Transformer model, const Tokenizer& tokenizer)
    : model_(std::move(model)), tokenizer_(tokenizer) {
  model_->eval();
}

int64_t Translator::max_source_tokens() const { return model_->config().max_positions - 1; }

std::vector<std::vector<Translation>> Translator::translate(
    const std::vector<std::string>& sentences,
    const TranslateOptions& options,
    std::vector<int64_t>* truncated) {
  const int64_t limit = options.max_source_tokens > 0
                            ? std::min(options.max_source_tokens, max_source_tokens())
                            : max_source_tokens();
  // 1. Encode; empty sentences (no tokens) are answered with an empty translation.
  std::vector<std::vector<int64_t>> sources(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) {
    sources[i] = tokenizer_.encode(sentences[i]);
    if (static_cast<int64_t>(sources[i].size()) > limit) {
      sources[i].resize(static_cast<size_t>(limit));
      if (truncated) truncated->push_back(static_cast<int64_t>(i));
    }
  }
  std::vector<std::vector<Translation>> results(sentences.size(), std::vector<Translation>(1));
  std::vector<size_t> order;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].empty()) order.push_back(i);
  }
  // 2. Longest first, so each batch holds similar lengths (little padding).
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return sources[a].size() > sources[b].size();
  });
  const SearchOptions search = search_options(options, model_->config().max_positions);
  const int64_t beam = std::max<int64_t>(1, options.decode.beam_size);
  torch::NoGradGuard no_grad;
  model_->eval();
  for (size_t begin = 0; begin < order.size();) {
    // 3. A batch within the token budget: rows x beam x (longest source + eos).
    const auto longest = static_cast<int64_t>(sources[order[begin]].size()) + 1;
    const int64_t rows = std::max<int64_t>(1, options.max_tokens / (longest * beam));
    const size_t end = std::min(order.size(), begin + static_cast<size_t>(rows));
    std::vector<std::vector<int64_t>> batch;
    for (size_t k = begin; k < end; ++k) batch.push_back(sources[order[k]]);
    const auto source = make_source_tensor(batch).to(device_of(*model_));  // [B, S]
    const SearchResult found = qkv::search(*model_, source, search);
    // 4. Back to text, in input order.
    for (size_t k = begin; k < end; ++k) {
      auto& out = results[order[k]];
      out.clear();
      for (const Hypothesis& h : found[k - begin]) {
        out.push_back({tokenizer_.decode(h.tokens), h.tokens, h.score, h.normalized_score});
      }
    }
    begin = end;
  }
  return results;
}

}  // namespace qkv
