// The API's request bodies, parsed and checked: JSON objects whose fields each have a type and
// a range; an unknown field, a wrong type or a value out of range is an ApiError(400) naming
// the field. Decoding settings start from the run's `decode:` config, as the CLI's flags do,
// and are bounded by inference/request_limits.h like the CLI's.
//   POST /v1/translate {"text": T} | {"texts": [T, ...]}, optional "beam", "nbest",
//                      "length_penalty", "length_penalty_type", "max_len"
//   POST /v1/attention {"text": T}, optional "target", "beam", "length_penalty",
//                      "length_penalty_type", "max_len", "vectors", "format": "json" | "html"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inference/translator.h"
#include "model/head_mask.h"
#include "train/experiment_config.h"

namespace qkv {

struct TranslateRequest {
  std::vector<std::string> texts;
  bool single = false;  ///< given as "text" (else "texts")
  TranslateOptions options;
  std::optional<HeadMask> heads_off;  ///< heads switched off for this request
};

struct AttentionRequest {
  std::string text;
  std::optional<std::string> target;  ///< teacher-force this translation instead of decoding
  TranslateOptions options;
  bool vectors = false;  ///< also q, k, v and head outputs (as `qkv attention --vectors`)
  bool html = false;     ///< "format": "html": the explorer page instead of attention.json
  std::optional<HeadMask> heads_off;  ///< heads switched off for this request
};

/// Parses a /v1/translate body; throws ApiError(400) naming the field.
TranslateRequest parse_translate_request(const std::string& body, const ExperimentConfig& run);

/// Parses a /v1/attention body; throws ApiError(400) naming the field.
AttentionRequest parse_attention_request(const std::string& body, const ExperimentConfig& run);

}  // namespace qkv
