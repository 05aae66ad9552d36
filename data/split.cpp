// The hash split (see split.h). data/io/crc32 is zlib's CRC-32, the one Python's zlib.crc32
// calls, so the two agree on every input.
#include "data/split.h"

#include "data/io/crc32.h"

namespace qkv {

std::string split_name(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kValid:
      return "valid";
    case Split::kTest:
      return "test";
  }
  return "unknown";
}

Split split_for_english(std::string_view english) {
  const uint32_t bucket = crc32_of(strip_whitespace(english)) % 20U;
  if (bucket == 0) return Split::kTest;
  if (bucket == 1) return Split::kValid;
  return Split::kTrain;
}

CorpusSplits split_by_english_hash(const std::vector<SentencePair>& pairs,
                                   EnglishSide english_side) {
  CorpusSplits splits;
  for (const SentencePair& pair : pairs) {
    const std::string& english = english_side == EnglishSide::kSource ? pair.source : pair.target;
    switch (split_for_english(english)) {
      case Split::kTrain:
        splits.train.push_back(pair);
        break;
      case Split::kValid:
        splits.valid.push_back(pair);
        break;
      case Split::kTest:
        splits.test.push_back(pair);
        break;
    }
  }
  return splits;
}

}  // namespace qkv
