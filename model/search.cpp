// Greedy and beam search over the KV-cached decoder (see search.h). Tensor work stays on the
// model's device; beam bookkeeping (a few candidates per sentence) runs on the host.
#include "model/search.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "model/kernels/vector_math.h"
#include "model/masks.h"
#include "model/require.h"

namespace qkv {

namespace {

constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

// The k most likely next tokens of every row: log-probabilities and ids, each [R, k], best
// first. On the CPU one pass per row (vector_math.h: log-sum-exp and top-k) instead of
// log_softmax over [R, V] and a top-k over its result: LibTorch 1.13's CPU exp is not
// vectorised and decoding did this at every step.
struct TopTokens {
  torch::Tensor log_probs;  // float32 [R, k]
  torch::Tensor ids;        // int64 [R, k]
};

TopTokens top_tokens(const torch::Tensor& logits, int64_t k) {
  auto values = logits.to(torch::kFloat32).contiguous();  // [R, V]
  if (!values.device().is_cpu()) {
    auto [top, ids] = torch::log_softmax(values, /*dim=*/-1).topk(k, /*dim=*/-1);
    return {top, ids};
  }
  const int64_t rows = values.size(0), vocab = values.size(1);
  TopTokens result{torch::empty({rows, k}, values.options()),
                   torch::empty({rows, k}, values.options().dtype(torch::kLong))};
  const float* x = values.data_ptr<float>();
  float* top = result.log_probs.data_ptr<float>();
  int64_t* ids = result.ids.data_ptr<int64_t>();
  at::parallel_for(0, rows, /*grain_size=*/8, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(vocab));
    for (int64_t r = begin; r < end; ++r) {
      const float* row = x + r * vocab;
      const float largest = vecmath::max_of(row, vocab);
      const auto lse = static_cast<float>(
          largest + std::log(vecmath::exp_shifted(row, largest, scratch.data(), vocab)));
      vecmath::top_k(row, vocab, k, top + r * k, ids + r * k);
      vecmath::scale_shift(top + r * k, k, 1.0F, -lse);
    }
  });
  return result;
}

// Encoder output and per-sentence length limits of one source batch.
struct EncodedBatch {
  torch::Tensor src_keep;       // bool [B, 1, 1, S]
  torch::Tensor memory;         // [B, S, D]
  std::vector<int64_t> limits;  // per sentence: most tokens to generate, EOS included
};

EncodedBatch encode_batch(TransformerImpl& model,
                          const torch::Tensor& src,
                          const SearchOptions& options) {
  validate_search_options(options);
  TORCH_CHECK(src.dim() == 2 && src.size(0) > 0 && src.scalar_type() == torch::kLong,
              "search: src must be int64 [B, S] with B > 0, got ",
              src.sizes(),
              " ",
              src.scalar_type());
  require(options.bos_id < model.vocab_size() && options.eos_id < model.vocab_size(),
          "search: bos_id " + std::to_string(options.bos_id) + " and eos_id " +
              std::to_string(options.eos_id) + " must be below the vocabulary size " +
              std::to_string(model.vocab_size()));
  EncodedBatch batch;
  batch.src_keep = make_padding_mask(src, options.pad_id);       // [B, 1, 1, S]
  auto lengths = batch.src_keep.sum({1, 2, 3}).to(torch::kCPU);  // [B]
  for (int64_t b = 0; b < src.size(0); ++b) {
    batch.limits.push_back(
        max_output_length(lengths[b].item<int64_t>(), model.config().max_positions, options));
  }
  batch.memory = model.encode(src, batch.src_keep);  // [B, S, D]
  return batch;
}

Hypothesis make_hypothesis(std::vector<int64_t> tokens,
                           double score,
                           bool finished,
                           const SearchOptions& options) {
  Hypothesis hypothesis;
  const auto generated = static_cast<int64_t>(tokens.size()) + (finished ? 1 : 0);
  hypothesis.tokens = std::move(tokens);
  hypothesis.score = score;
  hypothesis.normalized_score = score / length_penalty(generated, options);
  hypothesis.finished = finished;
  return hypothesis;
}

// The hypotheses of a beam search in flight: row b * K + j is hypothesis j of sentence b.
struct Beams {
  std::vector<float> scores;                   // [B * K] cumulative log-prob, -inf: dead row
  std::vector<std::vector<int64_t>> history;   // [B * K] tokens generated so far
  std::vector<int64_t> parents;                // [B * K] the row each row continues
  std::vector<int64_t> next_tokens;            // [B * K] fed to the decoder at the next step
  std::vector<std::vector<Hypothesis>> ended;  // [B] ended with EOS or at the length limit
  std::vector<bool> done;                      // [B]
};

// Only hypothesis 0 of every sentence is alive (score 0), so the first step expands one
// hypothesis instead of `beam` identical ones.
Beams start_beams(int64_t sentences, int64_t beam, int64_t bos_id) {
  const auto rows = static_cast<size_t>(sentences * beam);
  Beams beams;
  beams.scores.assign(rows, -std::numeric_limits<float>::infinity());
  for (int64_t b = 0; b < sentences; ++b) {
    beams.scores[static_cast<size_t>(b * beam)] = 0.0F;
  }
  beams.history.resize(rows);
  beams.parents.resize(rows);
  beams.next_tokens.assign(rows, bos_id);
  beams.ended.resize(static_cast<size_t>(sentences));
  beams.done.assign(static_cast<size_t>(sentences), false);
  return beams;
}

// One sentence's best extensions, best first: cumulative score and j * V + token, where j is
// the hypothesis (of the sentence's K) that the token extends.
struct Candidates {
  std::vector<float> scores;
  std::vector<int64_t> ids;
};

// The best 2K of a sentence's K * V extensions are among the best 2K of each of its K rows,
// so only those are ranked (on the host): even if K of them end with EOS, K others stay alive.
// logits [B * K, V], scores [B * K]. Returns B candidate lists of min(2K, K * V).
std::vector<Candidates> rank_candidates(const torch::Tensor& logits,
                                        const std::vector<float>& scores,
                                        int64_t sentences,
                                        int64_t beam) {
  const int64_t vocab = logits.size(1);
  const int64_t per_row = std::min(2 * beam, vocab);
  auto next = top_tokens(logits, per_row);  // [B*K, 2K] each
  const auto row_log_probs = next.log_probs.to(torch::kCPU).contiguous();
  const auto row_ids = next.ids.to(torch::kCPU).contiguous();
  const auto row_top = row_log_probs.accessor<float, 2>();
  const auto row_top_ids = row_ids.accessor<int64_t, 2>();
  const int64_t width = std::min(2 * beam, beam * vocab);  // candidates kept per sentence
  std::vector<Candidates> candidates(static_cast<size_t>(sentences));
  std::vector<std::pair<float, int64_t>> pool;  // (score, beam * V + token)
  for (int64_t b = 0; b < sentences; ++b) {
    pool.clear();
    for (int64_t j = 0; j < beam; ++j) {
      const int64_t row = b * beam + j;
      for (int64_t c = 0; c < per_row; ++c) {
        pool.emplace_back(scores[static_cast<size_t>(row)] + row_top[row][c],
                          j * vocab + row_top_ids[row][c]);
      }
    }
    std::stable_sort(
        pool.begin(), pool.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    for (int64_t c = 0; c < width; ++c) {
      candidates[static_cast<size_t>(b)].scores.push_back(pool[static_cast<size_t>(c)].first);
      candidates[static_cast<size_t>(b)].ids.push_back(pool[static_cast<size_t>(c)].second);
    }
  }
  return candidates;
}

// Sentence b takes its next step from its ranked candidates: EOS candidates among the best K
// end a hypothesis; the best K others continue (into next_history). The sentence is done with
// K ended hypotheses or at its length limit (last_step).
void advance_sentence(int64_t b,
                      const Candidates& candidates,
                      bool last_step,
                      int64_t vocab,
                      const SearchOptions& options,
                      Beams& beams,
                      std::vector<std::vector<int64_t>>& next_history) {
  const int64_t beam = options.beam_size;
  const auto sentence = static_cast<size_t>(b);
  const auto width = static_cast<int64_t>(candidates.ids.size());
  int64_t alive = 0;
  for (int64_t j = 0; j < width && !beams.done[sentence] && alive < beam; ++j) {
    const double score = candidates.scores[static_cast<size_t>(j)];
    if (!std::isfinite(score)) {
      break;  // sorted: the rest extend dead hypotheses too
    }
    const int64_t id = candidates.ids[static_cast<size_t>(j)];
    const int64_t parent = b * beam + id / vocab;
    const int64_t token = id % vocab;
    const auto& prefix = beams.history[static_cast<size_t>(parent)];
    if (token == options.eos_id) {
      if (j < beam) {
        beams.ended[sentence].push_back(make_hypothesis(prefix, score, true, options));
      }
      continue;
    }
    const auto row = static_cast<size_t>(b * beam + alive);
    beams.parents[row] = parent;
    beams.next_tokens[row] = token;
    beams.scores[row] = static_cast<float>(score);
    next_history[row] = prefix;
    next_history[row].push_back(token);
    if (last_step) {
      beams.ended[sentence].push_back(make_hypothesis(next_history[row], score, false, options));
    }
    ++alive;
  }
  beams.done[sentence] = beams.done[sentence] || last_step ||
                         static_cast<int64_t>(beams.ended[sentence].size()) >= beam;
  // Rows without a live hypothesis (sentence done, or too few finite candidates) stay dead:
  // score -inf, so they never win a candidate slot again.
  for (int64_t j = beams.done[sentence] ? 0 : alive; j < beam; ++j) {
    const auto row = static_cast<size_t>(b * beam + j);
    beams.parents[row] = b * beam + j;
    beams.next_tokens[row] = options.eos_id;
    beams.scores[row] = -std::numeric_limits<float>::infinity();
  }
}

// The n_best hypotheses of every sentence, best normalised score first.
SearchResult best_of_each_sentence(std::vector<std::vector<Hypothesis>>& ended, int64_t n_best) {
  SearchResult result(ended.size());
  for (size_t b = 0; b < ended.size(); ++b) {
    auto& hypotheses = ended[b];
    std::stable_sort(hypotheses.begin(), hypotheses.end(), [](const auto& x, const auto& y) {
      return x.normalized_score > y.normalized_score;
    });
    const auto keep = std::min(hypotheses.size(), static_cast<size_t>(n_best));
    result[b].assign(hypotheses.begin(), hypotheses.begin() + static_cast<std::ptrdiff_t>(keep));
  }
  return result;
}

}  // namespace

void validate_search_options(const SearchOptions& o) {
  require(o.beam_size >= 1, "search.beam_size: must be >= 1, got " + std::to_string(o.beam_size));
  require(o.n_best >= 1 && o.n_best <= o.beam_size,
          "search.n_best: must be in [1, beam_size = " + std::to_string(o.beam_size) + "], got " +
              std::to_string(o.n_best));
  require(
      o.length_penalty_alpha >= 0.0,
      "search.length_penalty_alpha: must be >= 0, got " + std::to_string(o.length_penalty_alpha));
  require(o.max_length >= 1,
          "search.max_length: must be >= 1, got " + std::to_string(o.max_length));
  require(o.max_length_ratio >= 0.0, "search.max_length_ratio: must be >= 0");
  require(o.bos_id >= 0 && o.eos_id >= 0 && o.pad_id >= 0 && o.bos_id != o.eos_id &&
              o.eos_id != o.pad_id,
          "search: bos_id, eos_id, pad_id must be >= 0 and eos_id distinct from bos_id and pad_id");
}

double length_penalty(int64_t length, const SearchOptions& options) {
  const double alpha = options.length_penalty_alpha;
  const auto len = static_cast<double>(std::max<int64_t>(length, 1));
  switch (options.length_penalty_type) {
    case LengthPenalty::kGnmt:
      return std::pow((5.0 + len) / 6.0, alpha);
    case LengthPenalty::kAverage:
      return std::pow(len, alpha);
    case LengthPenalty::kNone:
      break;
  }
  return 1.0;
}

int64_t max_output_length(int64_t source_length,
                          int64_t max_positions,
                          const SearchOptions& options) {
  const auto by_ratio = static_cast<int64_t>(
      std::floor(options.max_length_ratio * static_cast<double>(source_length) +
                 static_cast<double>(options.max_length_offset)));
  // Step s feeds position s, so at most max_positions steps fit the position table.
  return std::clamp<int64_t>(std::min(by_ratio, options.max_length), 1, max_positions);
}

SearchResult greedy_search(TransformerImpl& model,
                           const torch::Tensor& src,
                           const SearchOptions& options) {
  torch::NoGradGuard no_grad;
  auto batch = encode_batch(model, src, options);
  const int64_t rows = src.size(0);
  const auto device = src.device();
  const int64_t max_steps = *std::max_element(batch.limits.begin(), batch.limits.end());
  auto limits = torch::tensor(batch.limits, torch::kLong).to(device);  // [B]
  auto state = model.start_decoding(batch.memory, batch.src_keep);
  auto tokens = torch::full({rows}, options.bos_id, torch::dtype(torch::kLong).device(device));
  auto outputs = torch::full({rows, max_steps}, options.pad_id, tokens.options());   // [B, M]
  auto scores = torch::zeros({rows}, torch::dtype(torch::kFloat32).device(device));  // [B]
  auto generated = torch::zeros({rows}, tokens.options());  // tokens so far, EOS included
  auto done = torch::zeros({rows}, torch::dtype(torch::kBool).device(device));
  auto ended = torch::zeros_like(done);  // produced EOS
  for (int64_t step = 0; step < max_steps; ++step) {
    auto next = top_tokens(model.decode_step(tokens, state), /*k=*/1);  // [B, 1] each
    auto best_log_prob = next.log_probs.squeeze(1);                     // [B]
    auto best = next.ids.squeeze(1);                                    // [B]
    auto alive = done.logical_not();                                    // [B]
    scores += best_log_prob.masked_fill(done, 0.0);
    generated += alive;
    outputs.select(1, step).copy_(best.masked_fill(done, options.pad_id));
    auto eos = best.eq(options.eos_id) & alive;
    ended |= eos;
    done |= eos | generated.ge(limits);
    if (done.all().item<bool>()) {  // the one host sync per step
      break;
    }
    tokens = best;
  }
  auto outputs_cpu = outputs.to(torch::kCPU);
  auto scores_cpu = scores.to(torch::kCPU, torch::kFloat64);
  auto generated_cpu = generated.to(torch::kCPU);
  auto ended_cpu = ended.to(torch::kCPU);
  SearchResult result(static_cast<size_t>(rows));
  for (int64_t b = 0; b < rows; ++b) {
    const bool finished = ended_cpu[b].item<bool>();
    const int64_t kept = generated_cpu[b].item<int64_t>() - (finished ? 1 : 0);
    const auto* row = outputs_cpu[b].data_ptr<int64_t>();
    result[static_cast<size_t>(b)].push_back(make_hypothesis(
        std::vector<int64_t>(row, row + kept), scores_cpu[b].item<double>(), finished, options));
  }
  return result;
}

SearchResult beam_search(TransformerImpl& model,
                         const torch::Tensor& src,
                         const SearchOptions& options) {
  torch::NoGradGuard no_grad;
  auto batch = encode_batch(model, src, options);
  const int64_t sentences = src.size(0);
  const int64_t beam = options.beam_size;
  const auto device = src.device();
  const int64_t max_steps = *std::max_element(batch.limits.begin(), batch.limits.end());

  // 1. Every sentence starts with `beam` copies of its state; only copy 0 is alive.
  auto state = model.start_decoding(batch.memory, batch.src_keep);
  state.reorder(torch::arange(sentences, torch::dtype(torch::kLong).device(device))
                    .repeat_interleave(beam));  // [B * K]
  Beams beams = start_beams(sentences, beam, options.bos_id);

  for (int64_t step = 0; step < max_steps; ++step) {
    // 2. Score the extensions of every hypothesis and rank each sentence's best 2K.
    auto tokens = torch::tensor(beams.next_tokens, torch::kLong).to(device);  // [B * K]
    auto logits = model.decode_step(tokens, state);                           // [B*K, V]
    const int64_t vocab = logits.size(1);
    const auto candidates = rank_candidates(logits, beams.scores, sentences, beam);

    // 3. Per sentence, on the host: end hypotheses with EOS, continue the best K others.
    std::vector<std::vector<int64_t>> next_history(beams.history.size());
    for (int64_t b = 0; b < sentences; ++b) {
      const bool last_step = step + 1 >= batch.limits[static_cast<size_t>(b)];
      advance_sentence(
          b, candidates[static_cast<size_t>(b)], last_step, vocab, options, beams, next_history);
    }
    if (std::all_of(beams.done.begin(), beams.done.end(), [](bool d) { return d; })) {
      break;
    }
    // 4. Follow the chosen parents: the KV caches of beams of one sentence share its source.
    state.reorder_target(torch::tensor(beams.parents, torch::kLong).to(device));  // [B * K]
    beams.history = std::move(next_history);
  }
  return best_of_each_sentence(beams.ended, options.n_best);  // 5.
}

SearchResult search(TransformerImpl& model,
                    const torch::Tensor& src,
                    const SearchOptions& options) {
  return options.beam_size == 1 ? greedy_search(model, src, options)
                                : beam_search(model, src, options);
}

}  // namespace qkv
