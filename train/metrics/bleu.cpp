// Corpus BLEU as sacreBLEU 2.x computes it (see bleu.h). The steps mirror
// sacrebleu/metrics/bleu.py: preprocess each segment, count clipped n-gram matches per
// segment, sum the statistics over the corpus, then BLEU.compute_bleu.
#include "train/metrics/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <unordered_map>

#include "train/metrics/references.h"
#include "train/metrics/score_format.h"
#include "train/metrics/tokenizer_13a.h"
#include "train/metrics/unicode_text.h"

namespace qkv {
namespace {

// n-gram -> count, one map per order; an n-gram's key is its tokens joined by ' ' (tokens
// never contain whitespace, so keys are unambiguous within an order).
using NgramCounts = std::vector<std::unordered_map<std::string, int64_t>>;

NgramCounts count_ngrams(const std::vector<std::string>& tokens, int max_order) {
  NgramCounts counts(static_cast<std::size_t>(max_order));
  for (std::size_t start = 0; start < tokens.size(); ++start) {
    std::string key;
    for (int n = 1; n <= max_order && start + n <= tokens.size(); ++n) {
      if (n > 1) {
        key.push_back(' ');
      }
      key += tokens[start + n - 1];
      ++counts[n - 1][key];
    }
  }
  return counts;
}

// The reference length used for the brevity penalty: the closest to the hypothesis length,
// the shorter one on ties (BLEU._get_closest_ref_len).
int64_t closest_ref_len(int64_t hyp_len, const std::vector<int64_t>& ref_lens) {
  int64_t closest_diff = -1;
  int64_t closest_len = -1;
  for (const int64_t ref_len : ref_lens) {
    const int64_t diff = std::llabs(hyp_len - ref_len);
    if (closest_diff == -1 || diff < closest_diff) {
      closest_diff = diff;
      closest_len = ref_len;
    } else if (diff == closest_diff && ref_len < closest_len) {
      closest_len = ref_len;
    }
  }
  return closest_len;
}

// utils.my_log: log floored at -9999999999 for a zero precision.
double floored_log(double value) { return value == 0.0 ? -9999999999.0 : std::log(value); }

double default_smooth_value(BleuSmoothing smoothing) {
  return smoothing == BleuSmoothing::kFloor ? 0.1 : 1.0;
}

void validate(const BleuOptions& options) {
  if (options.max_ngram_order < 1) {
    throw std::invalid_argument("BLEU: max_ngram_order must be >= 1, got " +
                                std::to_string(options.max_ngram_order));
  }
}

}  // namespace

std::vector<std::string> bleu_tokens(const std::string& segment, const BleuOptions& options) {
  std::u32string text = decode_utf8(segment);
  if (options.lowercase) {
    text = python_lower(text);
  }
  std::u32string_view stripped = python_rstrip(text);
  std::u32string tokenized;
  if (options.tokenizer == BleuTokenizer::k13a) {
    tokenized = tokenize_13a(stripped);
    stripped = tokenized;
  }
  std::vector<std::string> tokens;
  for (const std::u32string_view word : python_split(stripped)) {
    tokens.push_back(encode_utf8(word));
  }
  return tokens;
}

std::string bleu_signature_fields(const BleuOptions& options) {
  std::string smooth;
  switch (options.smoothing) {
    case BleuSmoothing::kNone:
      smooth = "none";
      break;
    case BleuSmoothing::kExp:
      smooth = "exp";
      break;
    case BleuSmoothing::kFloor:
    case BleuSmoothing::kAddK:
      smooth = options.smoothing == BleuSmoothing::kFloor ? "floor" : "add-k";
      smooth +=
          "[" +
          format_fixed(options.smooth_value.value_or(default_smooth_value(options.smoothing)), 2) +
          "]";
      break;
  }
  return std::string("case:") + (options.lowercase ? "lc" : "mixed") +
         "|eff:" + (options.effective_order ? "yes" : "no") +
         "|tok:" + (options.tokenizer == BleuTokenizer::k13a ? "13a" : "none") +
         "|smooth:" + smooth;
}

BleuScore compute_bleu(const BleuStats& stats, const BleuOptions& options) {
  validate(options);
  const auto order = static_cast<std::size_t>(options.max_ngram_order);
  if (stats.counts.size() != order || stats.totals.size() != order) {
    throw std::invalid_argument("BLEU: statistics need " + std::to_string(order) +
                                " counts and totals, got " + std::to_string(stats.counts.size()) +
                                " and " + std::to_string(stats.totals.size()));
  }
  BleuScore result;
  result.counts = stats.counts;
  result.totals = stats.totals;
  result.sys_len = stats.sys_len;
  result.ref_len = stats.ref_len;
  result.ratio = stats.ref_len != 0
                     ? static_cast<double>(stats.sys_len) / static_cast<double>(stats.ref_len)
                     : 0.0;
  result.precisions.assign(order, 0.0);

  // 1. Brevity penalty: exp(1 - r/c) when the hypotheses are shorter than the references.
  if (stats.sys_len < stats.ref_len) {
    result.bp = stats.sys_len > 0 ? std::exp(1.0 - static_cast<double>(stats.ref_len) /
                                                       static_cast<double>(stats.sys_len))
                                  : 0.0;
  } else {
    result.bp = 1.0;
  }

  // 2. No match at any order: BLEU 0 and all precisions 0 (sacreBLEU issue #141).
  if (std::all_of(stats.counts.begin(), stats.counts.end(), [](int64_t c) { return c == 0; })) {
    return result;
  }

  // 3. Precisions in percent, smoothed; the loop stops at the first order without n-grams.
  const double smooth_value =
      options.smooth_value.value_or(default_smooth_value(options.smoothing));
  double smooth_mteval = 1.0;
  std::size_t eff_order = order;
  for (std::size_t n = 1; n <= order; ++n) {
    auto correct = static_cast<double>(stats.counts[n - 1]);
    auto total = static_cast<double>(stats.totals[n - 1]);
    if (options.smoothing == BleuSmoothing::kAddK && n > 1) {
      correct += smooth_value;
      total += smooth_value;
    }
    if (total == 0.0) {
      break;
    }
    if (options.effective_order) {
      eff_order = n;
    }
    if (correct == 0.0) {
      if (options.smoothing == BleuSmoothing::kExp) {
        smooth_mteval *= 2.0;
        result.precisions[n - 1] = 100.0 / (smooth_mteval * total);
      } else if (options.smoothing == BleuSmoothing::kFloor) {
        result.precisions[n - 1] = 100.0 * smooth_value / total;
      }
    } else {
      result.precisions[n - 1] = 100.0 * correct / total;
    }
  }

  // 4. Geometric mean of the first eff_order precisions (a zero one counts as log -1e10).
  double log_sum = 0.0;
  for (std::size_t n = 0; n < eff_order; ++n) {
    log_sum += floored_log(result.precisions[n]);
  }
  result.score = result.bp * std::exp(log_sum / static_cast<double>(eff_order));
  return result;
}

BleuScore corpus_bleu_multi(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& ref_streams,
                            const BleuOptions& options) {
  validate(options);
  const SegmentReferences refs = collect_references("BLEU", hyps.size(), ref_streams);
  const int max_order = options.max_ngram_order;
  BleuStats stats;
  stats.counts.assign(static_cast<std::size_t>(max_order), 0);
  stats.totals.assign(static_cast<std::size_t>(max_order), 0);

  for (std::size_t i = 0; i < hyps.size(); ++i) {
    // 1. Reference n-grams: for each n-gram, its maximum count over the references.
    NgramCounts ref_ngrams(static_cast<std::size_t>(max_order));
    std::vector<int64_t> ref_lens;
    for (const std::string_view ref : refs.per_segment[i]) {
      const std::vector<std::string> tokens = bleu_tokens(std::string(ref), options);
      ref_lens.push_back(static_cast<int64_t>(tokens.size()));
      NgramCounts counts = count_ngrams(tokens, max_order);
      for (std::size_t n = 0; n < counts.size(); ++n) {
        for (auto& [ngram, count] : counts[n]) {
          int64_t& best = ref_ngrams[n][ngram];
          best = std::max(best, count);
        }
      }
    }
    // 2. Hypothesis n-grams, clipped by the reference counts.
    const std::vector<std::string> tokens = bleu_tokens(hyps[i], options);
    const auto hyp_len = static_cast<int64_t>(tokens.size());
    stats.sys_len += hyp_len;
    stats.ref_len += closest_ref_len(hyp_len, ref_lens);
    const NgramCounts hyp_ngrams = count_ngrams(tokens, max_order);
    for (std::size_t n = 0; n < hyp_ngrams.size(); ++n) {
      for (const auto& [ngram, count] : hyp_ngrams[n]) {
        stats.totals[n] += count;
        const auto found = ref_ngrams[n].find(ngram);
        if (found != ref_ngrams[n].end()) {
          stats.counts[n] += std::min(count, found->second);
        }
      }
    }
  }

  BleuScore result = compute_bleu(stats, options);
  result.signature =
      "nrefs:" + refs.nrefs + "|" + bleu_signature_fields(options) + "|" + kSignatureVersion;
  return result;
}

BleuScore corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::string>& refs,
                      const BleuOptions& options) {
  return corpus_bleu_multi(hyps, std::vector<std::vector<std::string>>{refs}, options);
}

std::string BleuScore::format(int width) const {
  std::string text = "BLEU = " + format_fixed(score, width) + " ";
  for (std::size_t n = 0; n < precisions.size(); ++n) {
    text += (n > 0 ? "/" : "") + format_fixed(precisions[n], 1);
  }
  text += " (BP = " + format_fixed(bp, 3) + " ratio = " + format_fixed(ratio, 3) +
          " hyp_len = " + std::to_string(sys_len) + " ref_len = " + std::to_string(ref_len) + ")";
  return text;
}

std::string BleuScore::format_with_signature(int width) const {
  const std::string plain = format(width);
  if (signature.empty()) {
    return plain;
  }
  return "BLEU|" + signature + plain.substr(4);  // plain starts with "BLEU"
}

}  // namespace qkv
