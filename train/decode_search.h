// The `decode:` config section as model/search.h's SearchOptions: the one mapping, used by
// config validation (so validate_search_options judges what the translator will search with)
// and by the Translator.
#pragma once

#include "data/special_tokens.h"
#include "model/search.h"
#include "train/config.h"

namespace qkv {

/// SearchOptions for `decode` with qkv's special token ids, one hypothesis per sentence
/// (n_best = 1) and no cap beyond max_length_a/b other than SearchOptions' default
/// max_length; callers set n_best and max_length for their model.
inline SearchOptions search_options_for(const DecodeConfig& decode) {
  SearchOptions search;
  search.bos_id = kBosId;
  search.eos_id = kEosId;
  search.pad_id = kPadId;
  search.beam_size = decode.beam_size;
  search.n_best = 1;
  search.length_penalty_type = decode.length_penalty_type == LengthPenaltyType::kAverage
                                   ? LengthPenalty::kAverage
                                   : LengthPenalty::kGnmt;
  search.length_penalty_alpha = decode.length_penalty_alpha;
  search.max_length_ratio = decode.max_length_a;
  search.max_length_offset = decode.max_length_b;
  return search;
}

}  // namespace qkv
