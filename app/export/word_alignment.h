// Word alignment from cross-attention: for each target token, the source token it attends to
// most (mean over the heads of one decoder layer), with subwords merged into words, written
// in Pharaoh format ("0-0 1-2": source word - target word, both counted from 0).
// Rows are decoder positions: position t predicts target token t (predicted_tokens), so row t
// is the attention the model used to produce target token t.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "inference/attention_maps.h"

namespace qkv {

/// Word index of each SentencePiece piece: a piece starting with "▁" (U+2581) starts a new
/// word, other pieces continue the current one; special pieces (<s>, </s>, <pad>, <unk>
/// excepted) get -1. E.g. {"▁Haus", "tür", "▁zu", "</s>"} -> {0, 0, 1, -1}.
std::vector<int64_t> word_indices(const std::vector<std::string>& pieces);

/// The decoder layer used when none is chosen: the last one. (On the copy task every layer
/// that aligns at all aligns in the last layer; tests/app/export/alignment_learning_test.cpp.)
int64_t default_alignment_layer(const SentenceAttention& sentence);

/// Per target token (predicted_tokens, </s> excluded), the source position with the highest
/// head-averaged cross-attention weight in decoder `layer` (</s> on the source side excluded).
/// Throws std::out_of_range for a layer outside [0, decoder_layers).
std::vector<int64_t> align_subwords(const SentenceAttention& sentence, int64_t layer);

/// Word alignment: source word i - target word j whenever a piece of target word j is aligned
/// (align_subwords) to a piece of source word i. Sorted by target word, then source word;
/// no duplicates.
std::vector<std::pair<int64_t, int64_t>> align_words(const SentenceAttention& sentence,
                                                     int64_t layer);

/// "0-0 1-2 ..." (Pharaoh format: source-target pairs separated by spaces).
std::string pharaoh(const std::vector<std::pair<int64_t, int64_t>>& alignment);

}  // namespace qkv
