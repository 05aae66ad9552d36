// Corpus chrF (Popović 2015) and chrF++ (Popović 2017) computed as sacreBLEU 2.x computes them
// by default: character n-grams of orders 1..6 over Unicode code points with whitespace
// removed, beta 2, statistics summed over the corpus, and the F-score averaged over the
// "effective" orders (sacreBLEU's eps_smoothing=False). This is qkv's reimplementation of
// sacrebleu/metrics/chrf.py (it does not call sacreBLEU); the signature says "impl:qkv".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qkv {

/// Options of corpus_chrf; the defaults are sacreBLEU's chrF2.
struct ChrfOptions {
  int char_order = 6;          // character n-gram orders 1..char_order
  int word_order = 0;          // word n-gram orders 1..word_order (2 = chrF++)
  int beta = 2;                // recall weighs beta times as much as precision
  bool lowercase = false;      // Python str.lower() first
  bool whitespace = false;     // keep whitespace inside character n-grams
  bool eps_smoothing = false;  // chrF++.py/Moses/NLTK-style averaging instead of sacreBLEU's
};

/// A chrF result. `stats` holds [hypothesis n-grams, reference n-grams, matches] for each
/// order: character orders 1..char_order first, then word orders 1..word_order. An order for
/// which the reference has no n-gram counts 0 hypothesis n-grams (as in sacreBLEU).
struct ChrfScore {
  double score = 0.0;          // chrF in [0, 100]
  std::string name;            // "chrF2", or "chrF2++" for word order 2
  std::vector<int64_t> stats;  // 3 * (char_order + word_order) summed counts
  std::string signature;       // e.g. nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|...

  /// "chrF2 = 61.58" with `width` decimals, like sacreBLEU's Score.format.
  std::string format(int width = 2) const;
  /// "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x|impl:qkv = 61.58".
  std::string format_with_signature(int width = 2) const;
};

/// Corpus chrF of `hyps` against one reference per hypothesis. Throws std::invalid_argument
/// when the sizes differ, when there are no hypotheses, when a reference is empty (sacreBLEU
/// rejects those), on invalid UTF-8 or on bad options.
ChrfScore corpus_chrf(const std::vector<std::string>& hyps,
                      const std::vector<std::string>& refs,
                      const ChrfOptions& options = {});

/// Corpus chrF with several references (ref_streams[k][i] is the k-th reference of hyps[i]):
/// each segment uses the statistics of its reference with the best segment-level chrF.
ChrfScore corpus_chrf_multi(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& ref_streams,
                            const ChrfOptions& options = {});

/// chrF in [0, 100] from summed statistics (sacreBLEU's CHRF._compute_f_score).
double chrf_from_stats(const std::vector<int64_t>& stats, const ChrfOptions& options = {});

/// The signature without nrefs, version and impl: "case:mixed|eff:yes|nc:6|nw:0|space:no".
std::string chrf_signature_fields(const ChrfOptions& options);

}  // namespace qkv
