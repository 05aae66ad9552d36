// The train/valid/test split rule shared with the peer trainer
// (../shared/bench/peer_nmt_train.py --split-hash): a pair goes by the standard CRC-32 of the
// UTF-8 bytes of its stripped English side, crc % 20 == 0 test, == 1 valid, otherwise train.
// Anyone can reproduce it (Python: zlib.crc32(english.strip().encode("utf-8")) % 20), it is
// stable when the corpus grows, and one English sentence never lands in two splits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/parallel_corpus.h"

namespace qkv {

enum class Split { kTrain, kValid, kTest };

/// "train", "valid" or "test".
std::string split_name(Split split);

/// The split of a pair whose English side is `english`; surrounding ASCII whitespace is
/// stripped before hashing, so " Hi. " and "Hi." go to the same split.
Split split_for_english(std::string_view english);

/// Which side of a SentencePair holds the English text the split is keyed on.
enum class EnglishSide { kSource, kTarget };

struct CorpusSplits {
  std::vector<SentencePair> train;
  std::vector<SentencePair> valid;
  std::vector<SentencePair> test;
};

/// Assigns every pair to the split of its English side; each split keeps the input order.
CorpusSplits split_by_english_hash(const std::vector<SentencePair>& pairs,
                                   EnglishSide english_side);

}  // namespace qkv
