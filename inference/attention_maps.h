// Attention maps of one sentence pair, collected from a trained model: every site (encoder
// self-attention, decoder masked self-attention, cross-attention), every layer, every head,
// optionally with the per-head Q, K, V and head outputs, plus the subword tokens on each axis.
// Not here: writing maps as JSON/NPY/PNG/HTML, the probe-sentence snapshots written at each
// validation, word alignment (all in app/export/).
//
// How maps are collected: one teacher-forced pass (Transformer::forward) with an
// AttentionRecorder attached. For a decoded translation the hypothesis is found first
// (greedy or beam search) and then fed back teacher-forced, which gives exactly the maps that
// hypothesis was produced with (decode_step equals decode up to float rounding), also under
// beam search, where the recorder would otherwise see every beam.
//
// Axes: weights are [H, Tq, Tk], rows = queries, columns = keys.
//   encoder self-attention   queries and keys: source positions        (S x S)
//   decoder self-attention   queries and keys: decoder input positions (T x T), causal
//   cross-attention          queries: decoder input positions, keys: source positions (T x S)
// The encoder reads `source tokens + </s>`; the decoder reads `<s> + target tokens`, and
// position t predicts the next token (predicted_tokens[t]: target token t, or </s> last).
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/tokenizer.h"
#include "inference/translator.h"
#include "model/head_mask.h"
#include "model/transformer.h"

namespace qkv {

/// The three uses of attention in an encoder-decoder Transformer.
enum class AttentionType {
  kEncoderSelf,  ///< Q, K, V from the encoder stream (source)
  kDecoderSelf,  ///< Q, K, V from the decoder stream (target prefix), causal mask
  kCross,        ///< Q from the decoder stream, K and V from the encoder output (memory)
};

/// "encoder_self", "decoder_self" or "cross" (the names used in every export).
std::string attention_type_name(AttentionType type);

/// What one attention site computed for one sentence (batch dimension removed, float32, CPU).
struct SiteAttention {
  std::string site;  ///< "encoder.0.self_attn", "decoder.1.self_attn", "decoder.1.cross_attn"
  AttentionType type = AttentionType::kEncoderSelf;
  int64_t layer = 0;      ///< layer index within the encoder or decoder, from 0
  torch::Tensor weights;  ///< [H, Tq, Tk] softmax weights; rows = queries, columns = keys
  torch::Tensor query;    ///< [H, Tq, Dh] projected queries q   (only with projections)
  torch::Tensor key;      ///< [H, Tk, Dh] projected keys k      (only with projections)
  torch::Tensor value;    ///< [H, Tk, Dh] projected values v    (only with projections)
  torch::Tensor output;   ///< [H, Tq, Dh] weights @ v per head  (only with projections)
  bool has_projections() const { return query.defined(); }
  /// The per-head vectors by name, in the order every export lists them: query, key, value,
  /// output (undefined tensors without projections).
  std::array<std::pair<const char*, const torch::Tensor*>, 4> projections() const {
    return {{{"query", &query}, {"key", &key}, {"value", &value}, {"output", &output}}};
  }
};

/// All attention of one sentence pair, with the tokens on every axis.
struct SentenceAttention {
  std::string source_text;                    ///< as given (before tokenisation)
  std::string target_text;                    ///< forced target, or detokenised hypothesis
  bool forced = false;                        ///< true: target given (teacher-forced)
  bool finished = true;                       ///< target ends with </s> (false: cut by length)
  std::vector<int64_t> source_ids;            ///< encoder input: pieces + </s>        [S]
  std::vector<std::string> source_tokens;     ///< their pieces ("▁Haus", "</s>")    [S]
  std::vector<int64_t> target_ids;            ///< decoder input: <s> + pieces         [T]
  std::vector<std::string> target_tokens;     ///< their pieces ("<s>", "▁Das")      [T]
  std::vector<int64_t> predicted_ids;         ///< what position t predicts: target ids
                                              ///< shifted left, + </s> when finished  [T]
  std::vector<std::string> predicted_tokens;  ///< their pieces                         [T]
  int64_t d_model = 0;
  int64_t num_heads = 0;
  int64_t encoder_layers = 0;
  int64_t decoder_layers = 0;
  /// Heads switched off while recording (the model's head mask): their `output` is zeros on
  /// purpose. Empty when every head was on.
  HeadMask heads_off;
  /// encoder.0.self_attn ... encoder.{L-1}.self_attn, then per decoder layer self_attn and
  /// cross_attn: the order of the forward pass.
  std::vector<SiteAttention> sites;

  int64_t d_head() const { return num_heads > 0 ? d_model / num_heads : 0; }
  /// The site named `site`; throws std::out_of_range listing the sites if absent.
  const SiteAttention& at(const std::string& site) const;
};

/// Token ids to look at. The source excludes </s> and the target excludes <s> and </s>
/// (they are added as the model reads them).
struct TokenPair {
  std::vector<int64_t> source;
  std::vector<int64_t> target;
  bool target_finished = true;  ///< true: the target ends with </s> (its last row predicts it)
};

/// Runs one teacher-forced pass of `model` (left in eval mode) over src int64 [B, S] (padded
/// with the model's pad id) and tgt_in int64 [B, T] (<s> + target, padded) with a recorder
/// attached, under NoGradGuard. Returns the recorder: one record per site, weights
/// [B, H, Tq, Tk] (exact zeros at padded keys and future positions).
AttentionRecorder record_teacher_forced(Transformer& model,
                                        const torch::Tensor& src,
                                        const torch::Tensor& tgt_in,
                                        bool keep_projections);

/// Collects all maps of one sentence pair given as ids (no tokenizer needed: the token labels
/// are left empty). Throws std::invalid_argument for an empty source, ids outside the
/// vocabulary or sequences longer than the model's max_positions.
SentenceAttention collect_attention(Transformer& model,
                                    const TokenPair& tokens,
                                    bool keep_projections);

/// Maps of `source` with the given `target` translation, teacher-forced. Token labels from
/// `tokenizer`. Sources longer than the model accepts are cut (like Translator does).
SentenceAttention collect_forced_attention(Transformer& model,
                                           const Tokenizer& tokenizer,
                                           const std::string& source,
                                           const std::string& target,
                                           bool keep_projections);

/// Translates `source` with `translator` (greedy or beam, per `options`; the best hypothesis)
/// and returns the maps of that hypothesis.
SentenceAttention collect_decoded_attention(Translator& translator,
                                            const std::string& source,
                                            const TranslateOptions& options,
                                            bool keep_projections);

}  // namespace qkv
