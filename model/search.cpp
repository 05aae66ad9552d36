// Greedy and beam search over the KV-cached decoder (see search.h). Tensor work stays on the
// model's device; beam bookkeeping (a few candidates per sentence) runs on the host.
#include "model/search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "model/masks.h"

namespace qkv {

namespace {

constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

void require(bool condition, const std::string& message) {
  if (!condition) {
    throw std::invalid_argument(message);
  }
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
  switch (options.length_penalty) {
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
    auto log_probs = torch::log_softmax(model.decode_step(tokens, state).to(torch::kFloat32),
                                        /*dim=*/-1);         // [B, V]
    auto [best_log_prob, best] = log_probs.max(/*dim=*/-1);  // [B], [B]
    auto alive = done.logical_not();                         // [B]
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
  const int64_t rows = sentences * beam;  // row b * beam + j = hypothesis j of sentence b
  const auto device = src.device();
  const int64_t max_steps = *std::max_element(batch.limits.begin(), batch.limits.end());

  // 1. Every sentence starts with `beam` copies of its state; only copy 0 is alive (score 0),
  //    so the first step expands one hypothesis instead of `beam` identical ones.
  auto state = model.start_decoding(batch.memory, batch.src_keep);
  state.reorder(torch::arange(sentences, torch::dtype(torch::kLong).device(device))
                    .repeat_interleave(beam));  // [B * K]
  std::vector<float> beam_scores(static_cast<size_t>(rows),
                                 -std::numeric_limits<float>::infinity());
  for (int64_t b = 0; b < sentences; ++b) {
    beam_scores[static_cast<size_t>(b * beam)] = 0.0F;
  }
  std::vector<std::vector<int64_t>> history(static_cast<size_t>(rows));
  std::vector<int64_t> parents(static_cast<size_t>(rows));
  std::vector<int64_t> next_tokens(static_cast<size_t>(rows), options.bos_id);
  std::vector<std::vector<Hypothesis>> ended(static_cast<size_t>(sentences));
  std::vector<bool> done(static_cast<size_t>(sentences), false);

  for (int64_t step = 0; step < max_steps; ++step) {
    // 2. Score every extension of every hypothesis: cumulative log-prob [B, K * V].
    auto tokens = torch::tensor(next_tokens, torch::kLong).to(device);  // [B * K]
    auto log_probs = torch::log_softmax(model.decode_step(tokens, state).to(torch::kFloat32),
                                        /*dim=*/-1);  // [B*K, V]
    const int64_t vocab = log_probs.size(1);
    auto totals = (torch::tensor(beam_scores).to(device).unsqueeze(1) + log_probs)
                      .view({sentences, beam * vocab});  // [B, K * V]
    // 2K candidates: even if K of them end with EOS, K others can stay alive.
    auto [top_scores, top_ids] = totals.topk(std::min(2 * beam, beam * vocab), /*dim=*/-1);
    top_scores = top_scores.to(torch::kCPU).contiguous();  // [B, 2K]
    top_ids = top_ids.to(torch::kCPU).contiguous();        // [B, 2K]
    const auto candidate_scores = top_scores.accessor<float, 2>();
    const auto candidate_ids = top_ids.accessor<int64_t, 2>();

    // 3. Per sentence, on the host: EOS candidates among the best K end a hypothesis; the
    //    best K others continue. A sentence is done with K ended hypotheses or at its limit.
    std::vector<std::vector<int64_t>> next_history(static_cast<size_t>(rows));
    for (int64_t b = 0; b < sentences; ++b) {
      const auto sentence = static_cast<size_t>(b);
      const bool last_step = step + 1 >= batch.limits[sentence];
      int64_t alive = 0;
      for (int64_t j = 0; j < top_ids.size(1) && !done[sentence] && alive < beam; ++j) {
        const double score = candidate_scores[b][j];
        if (!std::isfinite(score)) {
          break;  // sorted: the rest extend dead hypotheses too
        }
        const int64_t id = candidate_ids[b][j];
        const int64_t parent = b * beam + id / vocab;
        const int64_t token = id % vocab;
        const auto& prefix = history[static_cast<size_t>(parent)];
        if (token == options.eos_id) {
          if (j < beam) {
            ended[sentence].push_back(make_hypothesis(prefix, score, true, options));
          }
          continue;
        }
        const auto row = static_cast<size_t>(b * beam + alive);
        parents[row] = parent;
        next_tokens[row] = token;
        beam_scores[row] = static_cast<float>(score);
        next_history[row] = prefix;
        next_history[row].push_back(token);
        if (last_step) {
          ended[sentence].push_back(make_hypothesis(next_history[row], score, false, options));
        }
        ++alive;
      }
      done[sentence] =
          done[sentence] || last_step || static_cast<int64_t>(ended[sentence].size()) >= beam;
      // Rows without a live hypothesis (sentence done, or too few finite candidates) stay
      // dead: score -inf, so they never win a candidate slot again.
      for (int64_t j = done[sentence] ? 0 : alive; j < beam; ++j) {
        const auto row = static_cast<size_t>(b * beam + j);
        parents[row] = b * beam + j;
        next_tokens[row] = options.eos_id;
        beam_scores[row] = -std::numeric_limits<float>::infinity();
      }
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) {
      break;
    }
    // 4. Follow the chosen parents: the KV caches of beams of one sentence share its source.
    state.reorder_target(torch::tensor(parents, torch::kLong).to(device));  // [B * K]
    history = std::move(next_history);
  }

  // 5. n-best per sentence, best normalised score first.
  SearchResult result(static_cast<size_t>(sentences));
  for (size_t b = 0; b < ended.size(); ++b) {
    auto& hypotheses = ended[b];
    std::stable_sort(hypotheses.begin(), hypotheses.end(), [](const auto& x, const auto& y) {
      return x.normalized_score > y.normalized_score;
    });
    const auto keep = std::min(hypotheses.size(), static_cast<size_t>(options.n_best));
    result[b].assign(hypotheses.begin(), hypotheses.begin() + static_cast<std::ptrdiff_t>(keep));
  }
  return result;
}

SearchResult search(TransformerImpl& model,
                    const torch::Tensor& src,
                    const SearchOptions& options) {
  return options.beam_size == 1 ? greedy_search(model, src, options)
                                : beam_search(model, src, options);
}

}  // namespace qkv
