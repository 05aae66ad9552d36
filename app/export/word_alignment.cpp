// Word alignment from cross-attention (see word_alignment.h).
#include "app/export/word_alignment.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace qkv {
namespace {

constexpr char kWordStart[] = "\xe2\x96\x81";  // U+2581, SentencePiece's word-start mark

bool is_special(const std::string& piece) {
  return piece == "<s>" || piece == "</s>" || piece == "<pad>";
}

}  // namespace

std::vector<int64_t> word_indices(const std::vector<std::string>& pieces) {
  std::vector<int64_t> words;
  int64_t word = -1;
  for (const std::string& piece : pieces) {
    if (is_special(piece)) {
      words.push_back(-1);
      continue;
    }
    if (word < 0 || piece.rfind(kWordStart, 0) == 0) ++word;  // first piece, or "▁..."
    words.push_back(word);
  }
  return words;
}

int64_t default_alignment_layer(const SentenceAttention& sentence) {
  return sentence.decoder_layers - 1;
}

std::vector<int64_t> align_subwords(const SentenceAttention& sentence, int64_t layer) {
  if (layer < 0 || layer >= sentence.decoder_layers) {
    throw std::out_of_range("alignment layer " + std::to_string(layer) +
                            " is outside the decoder's layers [0, " +
                            std::to_string(sentence.decoder_layers) + ")");
  }
  const SiteAttention& site = sentence.at("decoder." + std::to_string(layer) + ".cross_attn");
  auto mean = site.weights.mean(/*dim=*/0);  // [T, S]
  // Keys that are not source words (</s>) never win.
  const auto source_words = word_indices(sentence.source_tokens);
  for (size_t s = 0; s < source_words.size(); ++s) {
    if (source_words[s] < 0) mean.select(1, static_cast<int64_t>(s)).fill_(-1.0);
  }
  const auto best = mean.argmax(/*dim=*/1);  // [T]
  std::vector<int64_t> aligned;
  for (size_t t = 0; t < sentence.predicted_tokens.size(); ++t) {
    if (is_special(sentence.predicted_tokens[t])) continue;
    aligned.push_back(best[static_cast<int64_t>(t)].item<int64_t>());
  }
  return aligned;
}

std::vector<std::pair<int64_t, int64_t>> align_words(const SentenceAttention& sentence,
                                                     int64_t layer) {
  const auto sources = align_subwords(sentence, layer);
  const auto source_words = word_indices(sentence.source_tokens);
  const auto target_words = word_indices(sentence.predicted_tokens);
  std::set<std::pair<int64_t, int64_t>> by_target;  // (target word, source word)
  size_t next = 0;  // index into `sources`: one entry per non-special predicted token
  for (int64_t target_word : target_words) {
    if (target_word < 0) continue;
    const int64_t source_word = source_words[static_cast<size_t>(sources[next++])];
    if (source_word >= 0) by_target.emplace(target_word, source_word);
  }
  std::vector<std::pair<int64_t, int64_t>> alignment;
  for (const auto& [target_word, source_word] : by_target) {
    alignment.emplace_back(source_word, target_word);
  }
  return alignment;
}

std::string pharaoh(const std::vector<std::pair<int64_t, int64_t>>& alignment) {
  std::string text;
  for (const auto& [source, target] : alignment) {
    if (!text.empty()) text += ' ';
    text += std::to_string(source) + "-" + std::to_string(target);
  }
  return text;
}

}  // namespace qkv
