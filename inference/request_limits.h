// Bounds on the work one request may ask for, the same in `qkv translate` and `qkv serve`:
// beam size, n-best, output length, texts per request and bytes per text. Without them
// `qkv translate --beam 10000 "Hello."` ran for minutes at 3.8 GB; through a server that is a
// one-request denial of service.
#pragma once

#include <cstdint>
#include <string>

#include "inference/translator.h"

namespace qkv {

struct RequestLimits {
  int64_t max_beam = 64;           // wider than any NMT system uses (Marian's default is 12)
  int64_t max_texts = 64;          // texts in one API request
  int64_t max_text_bytes = 16384;  // bytes of one text; the model reads at most max_positions
                                   // tokens (~4 bytes each), so longer text is never read whole
};

/// The limits qkv applies.
inline constexpr RequestLimits kRequestLimits{};

/// What the user calls each bounded setting: the CLI's flags or the API's JSON fields.
struct LimitNames {
  const char* beam;
  const char* n_best;
  const char* max_len;
};
inline constexpr LimitNames kCliLimitNames{"--beam", "--nbest", "--max-len"};
inline constexpr LimitNames kApiLimitNames{"beam", "nbest", "max_len"};

/// Throws std::invalid_argument naming the setting when `options` asks for more than the
/// limits allow: beam above max_beam, n_best outside [1, beam], max_output_tokens above what
/// `max_positions` leaves (max_positions - 1). E.g. "--beam: must be at most 64, got 10000".
void check_request_limits(const TranslateOptions& options,
                          int64_t max_positions,
                          const LimitNames& names);

/// `text` cut to at most `max_bytes` bytes at a UTF-8 character boundary (unchanged when short).
std::string cut_to_bytes(const std::string& text, int64_t max_bytes);

}  // namespace qkv
