// Corpus BLEU (Papineni et al., 2002) computed as sacreBLEU 2.x computes it by default:
// 13a tokenisation, cased, exponential smoothing, effective order off, max order 4, brevity
// penalty from the closest reference length, statistics summed over the corpus.
// This is qkv's reimplementation of sacrebleu/metrics/bleu.py (it does not call sacreBLEU);
// the signature says so with "impl:qkv".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qkv {

/// How to tokenize before counting word n-grams (sacreBLEU --tokenize).
enum class BleuTokenizer {
  k13a,  // mteval-v13a, sacreBLEU's default (see tokenizer_13a.h)
  kNone  // split on whitespace only: for text that is already tokenized
};

/// How to score an n-gram order with no match (Chen & Cherry 2014, as in sacreBLEU).
enum class BleuSmoothing {
  kNone,   // precision 0, so the whole score is 0
  kFloor,  // precision = smooth_value / total (default smooth_value 0.1)
  kAddK,   // orders n >= 2: add smooth_value to matches and totals (default 1)
  kExp     // sacreBLEU's default (NIST): the k-th zero precision becomes 1 / (2^k total)
};

/// Options of corpus_bleu; the defaults are sacreBLEU's.
struct BleuOptions {
  bool lowercase = false;                         // Python str.lower() before tokenizing
  BleuTokenizer tokenizer = BleuTokenizer::k13a;  // tokenization before counting n-grams
  BleuSmoothing smoothing = BleuSmoothing::kExp;  // zero-match handling
  std::optional<double> smooth_value;             // floor / add-k value; unset = default
  int max_ngram_order = 4;                        // n-gram orders 1..max_ngram_order
  bool effective_order = false;  // average only over orders with n-grams (sentence BLEU)
};

/// Sufficient statistics of BLEU, summed over segments.
struct BleuStats {
  int64_t sys_len = 0;          // hypothesis tokens
  int64_t ref_len = 0;          // closest reference lengths (ties: the shorter one)
  std::vector<int64_t> counts;  // clipped n-gram matches, per order 1..N
  std::vector<int64_t> totals;  // hypothesis n-grams, per order 1..N
};

/// A BLEU result with everything sacreBLEU prints.
struct BleuScore {
  double score = 0.0;              // BLEU in [0, 100]
  std::vector<double> precisions;  // n-gram precisions in percent (smoothed), per order
  std::vector<int64_t> counts;     // clipped n-gram matches, per order (before add-k)
  std::vector<int64_t> totals;     // hypothesis n-grams, per order (before add-k)
  double bp = 0.0;                 // brevity penalty
  double ratio = 0.0;              // sys_len / ref_len (0 when ref_len is 0)
  int64_t sys_len = 0;             // hypothesis tokens
  int64_t ref_len = 0;             // effective reference tokens
  std::string signature;           // e.g. nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|...

  /// "BLEU = 36.58 68.2/44.1/30.0/20.6 (BP = 1.000 ratio = 1.012 hyp_len = 12345
  /// ref_len = 12201)" with `width` decimals for the score, like sacreBLEU's Score.format.
  std::string format(int width = 2) const;
  /// The same with the signature: "BLEU|nrefs:1|...|impl:qkv = 36.58 ...".
  std::string format_with_signature(int width = 2) const;
};

/// Corpus BLEU of `hyps` against one reference per hypothesis (refs[i] for hyps[i]).
/// Throws std::invalid_argument when the sizes differ, when there are no hypotheses, when a
/// reference is empty (sacreBLEU rejects those), on invalid UTF-8 or on bad options.
BleuScore corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::string>& refs,
                      const BleuOptions& options = {});

/// Corpus BLEU with several references: ref_streams[k][i] is the k-th reference of hyps[i].
/// Empty references are skipped per segment (a segment needs at least one); n-gram counts
/// are clipped by their maximum count over the references.
BleuScore corpus_bleu_multi(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& ref_streams,
                            const BleuOptions& options = {});

/// BLEU from summed statistics (sacreBLEU's BLEU.compute_bleu), including its corner cases:
/// no match at all gives 0 with all precisions 0; an order with no hypothesis n-gram stops
/// the precision loop, so without effective order a corpus shorter than N tokens per segment
/// scores 0. The signature is left empty: it depends on the references (see corpus_bleu).
BleuScore compute_bleu(const BleuStats& stats, const BleuOptions& options = {});

/// The signature without nrefs, version and impl: "case:mixed|eff:no|tok:13a|smooth:exp".
std::string bleu_signature_fields(const BleuOptions& options);

/// The tokens BLEU counts for one segment: lowercase (if asked), Python rstrip(), tokenize,
/// split on whitespace. Throws std::invalid_argument on invalid UTF-8.
std::vector<std::string> bleu_tokens(const std::string& segment, const BleuOptions& options);

}  // namespace qkv
