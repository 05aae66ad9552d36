// Corpus chrF / chrF++ as sacreBLEU 2.x computes them (see chrf.h). The steps mirror
// sacrebleu/metrics/chrf.py: n-gram counters per order for hypothesis and reference, match
// statistics per segment (best reference), summed over the corpus, then _compute_f_score.
// Counting differs in form only: sorted n-gram lists instead of Python Counters.
#include "train/metrics/chrf.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>

#include "train/metrics/references.h"
#include "train/metrics/score_format.h"
#include "train/metrics/unicode_text.h"

namespace qkv {
namespace {

// The n-grams of one segment, one sorted list per order (character orders 1..C, then word
// orders 1..W), so that counting matches is a merge of two sorted lists. The n-grams are views
// into `chars` (whitespace removed unless kept) and `words` (the chrF++ words joined by ' ',
// so that a word n-gram is a contiguous span: " ".join(words[i:i+n]) in sacreBLEU).
struct SegmentNgrams {
  std::unique_ptr<const std::u32string> chars;
  std::unique_ptr<const std::u32string> words;
  std::vector<std::vector<std::u32string_view>> sorted;  // per order
};

// string.punctuation, the set chrF++ splits off word edges.
bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// CHRF._remove_punctuation: splits one trailing, else one leading, punctuation mark off each
// word longer than one code point ("(hi)" becomes "(hi" and ")", as in sacreBLEU).
std::vector<std::u32string_view> words_for_chrf(std::u32string_view text) {
  std::vector<std::u32string_view> words;
  for (const std::u32string_view w : python_split(text)) {
    if (w.size() == 1) {
      words.push_back(w);
    } else if (is_ascii_punctuation(w.back())) {
      words.push_back(w.substr(0, w.size() - 1));
      words.push_back(w.substr(w.size() - 1));
    } else if (is_ascii_punctuation(w.front())) {
      words.push_back(w.substr(0, 1));
      words.push_back(w.substr(1));
    } else {
      words.push_back(w);
    }
  }
  return words;
}

SegmentNgrams extract_ngrams(const std::string& segment, const ChrfOptions& options) {
  std::u32string text = decode_utf8(segment);
  if (options.lowercase) {
    text = python_lower(text);
  }
  SegmentNgrams out;
  // 1. Character n-grams (helpers.extract_all_char_ngrams).
  out.chars = std::make_unique<const std::u32string>(
      options.whitespace ? text : remove_python_whitespace(text));
  // One sort serves every order: the text's substrings of up to char_order code points, one
  // per start position, sorted; the n-grams in sorted order are then the length-n prefixes of
  // those at least n long (a < b implies prefix_n(a) <= prefix_n(b)).
  const std::u32string_view chars = *out.chars;
  const auto max_order = static_cast<std::size_t>(options.char_order);
  std::vector<std::u32string_view> starts;
  for (std::size_t i = 0; i < chars.size(); ++i) {
    starts.push_back(chars.substr(i, max_order));
  }
  std::sort(starts.begin(), starts.end());
  for (std::size_t n = 1; n <= max_order; ++n) {
    std::vector<std::u32string_view> ngrams;
    for (const std::u32string_view start : starts) {
      if (start.size() >= n) {
        ngrams.push_back(start.substr(0, n));
      }
    }
    out.sorted.push_back(std::move(ngrams));
  }
  // 2. Word n-grams for chrF++ (helpers.extract_word_ngrams).
  if (options.word_order > 0) {
    std::u32string joined;
    std::vector<std::pair<std::size_t, std::size_t>> spans;  // [begin, end) of each word
    for (const std::u32string_view word : words_for_chrf(text)) {
      if (!joined.empty()) {
        joined.push_back(U' ');
      }
      spans.emplace_back(joined.size(), joined.size() + word.size());
      joined.append(word);
    }
    out.words = std::make_unique<const std::u32string>(std::move(joined));
    const std::u32string_view words = *out.words;
    for (int n = 1; n <= options.word_order; ++n) {
      std::vector<std::u32string_view> ngrams;
      for (std::size_t i = 0; i + n <= spans.size(); ++i) {
        const std::size_t begin = spans[i].first;
        ngrams.push_back(words.substr(begin, spans[i + n - 1].second - begin));
      }
      std::sort(ngrams.begin(), ngrams.end());
      out.sorted.push_back(std::move(ngrams));
    }
  }
  return out;
}

// CHRF._get_match_statistics for one order: [hyp n-grams, ref n-grams, matches], where each
// distinct n-gram matches min(hyp count, ref count) times; the hypothesis count is 0 when the
// reference has no n-gram of this order. Both lists are sorted: one merge pass.
void append_match_statistics(const std::vector<std::u32string_view>& hyp,
                             const std::vector<std::u32string_view>& ref,
                             std::vector<int64_t>& stats) {
  int64_t matches = 0;
  std::size_t h = 0;
  std::size_t r = 0;
  while (h < hyp.size() && r < ref.size()) {
    if (hyp[h] < ref[r]) {
      ++h;
    } else if (ref[r] < hyp[h]) {
      ++r;
    } else {
      const std::u32string_view ngram = hyp[h];
      std::size_t hyp_run = 0;
      std::size_t ref_run = 0;
      for (; h < hyp.size() && hyp[h] == ngram; ++h) ++hyp_run;
      for (; r < ref.size() && ref[r] == ngram; ++r) ++ref_run;
      matches += static_cast<int64_t>(std::min(hyp_run, ref_run));
    }
  }
  stats.push_back(ref.empty() ? 0 : static_cast<int64_t>(hyp.size()));
  stats.push_back(static_cast<int64_t>(ref.size()));
  stats.push_back(matches);
}

void validate(const ChrfOptions& options) {
  if (options.char_order < 0 || options.word_order < 0 ||
      options.char_order + options.word_order < 1) {
    throw std::invalid_argument(
        "chrF: char_order and word_order must be >= 0 and not both 0, got " +
        std::to_string(options.char_order) + " and " + std::to_string(options.word_order));
  }
  if (options.beta < 0) {
    throw std::invalid_argument("chrF: beta must be >= 0, got " + std::to_string(options.beta));
  }
}

}  // namespace

double chrf_from_stats(const std::vector<int64_t>& stats, const ChrfOptions& options) {
  validate(options);
  const auto order = static_cast<std::size_t>(options.char_order + options.word_order);
  if (stats.size() != 3 * order) {
    throw std::invalid_argument("chrF: statistics need " + std::to_string(3 * order) +
                                " numbers, got " + std::to_string(stats.size()));
  }
  const double eps = 1e-16;
  const auto factor = static_cast<double>(options.beta * options.beta);
  double score = 0.0;
  double avg_prec = 0.0;
  double avg_rec = 0.0;
  int effective_order = 0;
  for (std::size_t i = 0; i < order; ++i) {
    const auto n_hyp = static_cast<double>(stats[3 * i]);
    const auto n_ref = static_cast<double>(stats[3 * i + 1]);
    const auto n_match = static_cast<double>(stats[3 * i + 2]);
    // chrF++.py-style eps smoothing (only used when eps_smoothing is set).
    const double prec = n_hyp > 0 ? n_match / n_hyp : eps;
    const double rec = n_ref > 0 ? n_match / n_ref : eps;
    const double denom = factor * prec + rec;
    score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
    // sacreBLEU's default: average precision and recall over orders that have n-grams.
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += prec;
      avg_rec += rec;
      ++effective_order;
    }
  }
  if (options.eps_smoothing) {
    return 100 * score / static_cast<double>(order);
  }
  if (effective_order == 0) {
    avg_prec = 0.0;
    avg_rec = 0.0;
  } else {
    avg_prec /= effective_order;
    avg_rec /= effective_order;
  }
  if (avg_prec + avg_rec == 0.0) {
    return 0.0;
  }
  score = (1 + factor) * avg_prec * avg_rec;
  score /= (factor * avg_prec) + avg_rec;
  return 100 * score;
}

std::string chrf_signature_fields(const ChrfOptions& options) {
  return std::string("case:") + (options.lowercase ? "lc" : "mixed") +
         "|eff:" + (options.eps_smoothing ? "no" : "yes") +
         "|nc:" + std::to_string(options.char_order) + "|nw:" + std::to_string(options.word_order) +
         "|space:" + (options.whitespace ? "yes" : "no");
}

ChrfScore corpus_chrf_multi(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& ref_streams,
                            const ChrfOptions& options) {
  validate(options);
  const SegmentReferences refs = collect_references("chrF", hyps.size(), ref_streams);
  const auto order = static_cast<std::size_t>(options.char_order + options.word_order);
  std::vector<int64_t> corpus_stats(3 * order, 0);
  for (std::size_t i = 0; i < hyps.size(); ++i) {
    const SegmentNgrams hyp_ngrams = extract_ngrams(hyps[i], options);
    // The reference with the best segment-level chrF (the first one on ties).
    std::vector<int64_t> best_stats;
    double best_f_score = -1.0;
    for (const std::string_view ref : refs.per_segment[i]) {
      const SegmentNgrams ref_ngrams = extract_ngrams(std::string(ref), options);
      std::vector<int64_t> stats;
      stats.reserve(3 * order);
      for (std::size_t n = 0; n < order; ++n) {
        append_match_statistics(hyp_ngrams.sorted[n], ref_ngrams.sorted[n], stats);
      }
      const double f_score = chrf_from_stats(stats, options);
      if (f_score > best_f_score) {
        best_f_score = f_score;
        best_stats = std::move(stats);
      }
    }
    for (std::size_t k = 0; k < corpus_stats.size(); ++k) {
      corpus_stats[k] += best_stats[k];
    }
  }
  ChrfScore result;
  result.score = chrf_from_stats(corpus_stats, options);
  result.name = "chrF" + std::to_string(options.beta) +
                std::string(static_cast<std::size_t>(options.word_order), '+');
  result.stats = std::move(corpus_stats);
  result.signature =
      "nrefs:" + refs.nrefs + "|" + chrf_signature_fields(options) + "|" + kSignatureVersion;
  return result;
}

ChrfScore corpus_chrf(const std::vector<std::string>& hyps,
                      const std::vector<std::string>& refs,
                      const ChrfOptions& options) {
  return corpus_chrf_multi(hyps, std::vector<std::vector<std::string>>{refs}, options);
}

std::string ChrfScore::format(int width) const { return name + " = " + format_fixed(score, width); }

std::string ChrfScore::format_with_signature(int width) const {
  if (signature.empty()) {
    return format(width);
  }
  return name + "|" + signature + " = " + format_fixed(score, width);
}

}  // namespace qkv
