// Token ids with a fixed meaning, shared by the tokenizer (data/tokenizer.h), batching and the
// model: every SentencePiece model qkv trains or loads has exactly these ids.
#pragma once

#include <cstdint>

namespace qkv {

inline constexpr int64_t kPadId = 0;  // padding: never attended to, never predicted
inline constexpr int64_t kUnkId = 1;  // unknown piece
inline constexpr int64_t kBosId = 2;  // begin of sentence: first decoder input
inline constexpr int64_t kEosId = 3;  // end of sentence: closes source and target

}  // namespace qkv
