// A cross-attention map as text, for a terminal: the head-averaged weights of one decoder
// layer in percent, one row per query (decoder input token -> the token it predicts), one
// column per key (source token). Each row sums to 100 (up to rounding).
//
//   cross-attention of decoder.2.cross_attn (decoder layers 0-2), mean of 4 heads: rows =
//   queries (decoder input -> predicted token), columns = keys (source tokens), % of each row
//                        ▁The ▁house  ▁is  ▁big    .  </s>
//   <s>     -> ▁Das        62      9    3     1    0    25
//   ▁Das    -> ▁Haus        3     81    ...
#pragma once

#include <cstdint>
#include <string>

#include "inference/attention_maps.h"

namespace qkv {

/// The table above for decoder `layer` of `sentence`. Throws std::out_of_range for a layer
/// outside [0, decoder_layers).
std::string cross_attention_text(const SentenceAttention& sentence, int64_t layer);

}  // namespace qkv
