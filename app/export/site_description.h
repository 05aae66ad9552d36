// Words for the three attention types, shared by every export (JSON, NPY index, PNG titles,
// HTML explorer), so that each says the same thing about axes and where Q, K, V come from.
#pragma once

#include <string>

#include "inference/attention_maps.h"

namespace qkv {

/// "encoder self-attention", "decoder masked self-attention", "cross-attention".
std::string attention_title(AttentionType type);

/// The stream the queries (rows) come from: "source" (encoder) or "target" (decoder).
std::string query_stream(AttentionType type);

/// The stream the keys and values (columns) come from: "source" or "target".
std::string key_stream(AttentionType type);

/// "causal" for decoder self-attention (a query may not see later positions), else "none"
/// (a single sentence has no padding to mask).
std::string mask_name(AttentionType type);

/// One sentence: where Q, K and V come from for this type, e.g. for cross-attention "Q from
/// the decoder (target stream, after masked self-attention); K and V from the encoder output
/// (memory)".
std::string qkv_origin(AttentionType type);

/// The same in a few words, for image titles: "Q from the decoder (target), K and V from the
/// encoder output (memory)".
std::string qkv_origin_short(AttentionType type);

}  // namespace qkv
