// Word alignment from cross-attention: subwords merge into words, </s> never wins, rows are
// the positions that predict each target token, output is Pharaoh "src-tgt".
#include "app/export/word_alignment.h"

#include <gtest/gtest.h>

namespace qkv {
namespace {

const std::string kMark = "\u2581";  // SentencePiece word start

// A sentence whose decoder layer 0 cross-attention (2 heads) is `weights` [T, S] in head 0 and
// uniform in head 1, so the head average peaks where `weights` does.
SentenceAttention sentence_with(const std::vector<std::string>& source_tokens,
                                const std::vector<std::string>& predicted_tokens,
                                const torch::Tensor& weights) {
  SentenceAttention sentence;
  sentence.source_tokens = source_tokens;
  sentence.predicted_tokens = predicted_tokens;
  sentence.target_tokens = {"<s>"};
  for (size_t t = 0; t + 1 < predicted_tokens.size(); ++t)
    sentence.target_tokens.push_back(predicted_tokens[t]);
  sentence.decoder_layers = 1;
  sentence.num_heads = 2;
  SiteAttention cross;
  cross.site = "decoder.0.cross_attn";
  cross.type = AttentionType::kCross;
  const auto uniform = torch::full_like(weights, 1.0 / static_cast<double>(weights.size(1)));
  cross.weights = torch::stack({weights, uniform});  // [2, T, S]
  sentence.sites.push_back(cross);
  return sentence;
}

TEST(WordIndices, PiecesStartingWithTheMarkStartWordsAndSpecialsHaveNone) {
  EXPECT_EQ(word_indices({kMark + "Haus", "t\u00fcr", kMark + "zu", "</s>"}),
            (std::vector<int64_t>{0, 0, 1, -1}));
  EXPECT_EQ(word_indices({"<s>", "ab", kMark + "c", kMark, "d"}),
            (std::vector<int64_t>{-1, 0, 1, 2, 2}));
}

TEST(AlignWords, MergesSubwordsIntoWordsAndWritesPharaoh) {
  // source: ▁the ▁front door ▁is ▁open </s>  (words: the, frontdoor, is, open)
  // target: ▁die ▁Haus tür ▁ist ▁offen </s>  (words: die, Haustür, ist, offen)
  const std::vector<std::string> source = {
      kMark + "the", kMark + "front", "door", kMark + "is", kMark + "open", "</s>"};
  const std::vector<std::string> target = {
      kMark + "die", kMark + "Haus", "t\u00fcr", kMark + "ist", kMark + "offen", "</s>"};
  const std::vector<int64_t> peak = {0, 2, 1, 3, 4, 5};  // row t attends most to source peak[t]
  auto weights = torch::full({6, 6}, 0.02);
  for (int64_t t = 0; t < 6; ++t) weights[t][peak[static_cast<size_t>(t)]] = 0.9;
  const SentenceAttention sentence = sentence_with(source, target, weights);
  EXPECT_EQ(align_subwords(sentence, 0), (std::vector<int64_t>{0, 2, 1, 3, 4}));
  const auto alignment = align_words(sentence, 0);
  EXPECT_EQ(pharaoh(alignment), "0-0 1-1 2-2 3-3");
}

TEST(AlignWords, OneTargetWordMayAlignToSeveralSourceWords) {
  const std::vector<std::string> source = {kMark + "a", kMark + "b", "</s>"};
  const std::vector<std::string> target = {kMark + "x", "y", "</s>"};  // one word of two pieces
  auto weights = torch::tensor({0.9, 0.05, 0.05, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8}).view({3, 3});
  EXPECT_EQ(pharaoh(align_words(sentence_with(source, target, weights), 0)), "0-0 1-0");
}

TEST(AlignWords, SourceEndOfSentenceNeverWins) {
  const std::vector<std::string> source = {kMark + "a", kMark + "b", "</s>"};
  const std::vector<std::string> target = {kMark + "x", "</s>"};
  auto weights = torch::tensor({0.1, 0.3, 0.6, 0.0, 0.0, 1.0}).view({2, 3});
  EXPECT_EQ(align_subwords(sentence_with(source, target, weights), 0), (std::vector<int64_t>{1}));
}

TEST(AlignWords, RejectsLayersOutsideTheDecoder) {
  const SentenceAttention sentence =
      sentence_with({kMark + "a", "</s>"}, {kMark + "x", "</s>"}, torch::full({2, 2}, 0.5));
  EXPECT_EQ(default_alignment_layer(sentence), 0);
  EXPECT_THROW(align_words(sentence, 1), std::out_of_range);
  EXPECT_THROW(align_words(sentence, -1), std::out_of_range);
  EXPECT_EQ(pharaoh({}), "");
}

}  // namespace
}  // namespace qkv
