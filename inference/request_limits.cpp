// Request limits (see request_limits.h).
#include "inference/request_limits.h"

#include <stdexcept>

namespace qkv {
namespace {

[[noreturn]] void fail(const char* name, const std::string& rule, int64_t value) {
  throw std::invalid_argument(std::string(name) + ": " + rule + ", got " + std::to_string(value));
}

}  // namespace

void check_request_limits(const TranslateOptions& options,
                          int64_t max_positions,
                          const LimitNames& names) {
  const int64_t beam = options.decode.beam_size;
  if (beam > kRequestLimits.max_beam)
    fail(names.beam, "must be at most " + std::to_string(kRequestLimits.max_beam), beam);
  if (options.n_best < 1 || options.n_best > beam)
    fail(names.n_best,
         "must be between 1 and the beam size " + std::to_string(beam),
         options.n_best);
  // Longer outputs are impossible anyway: the decoder has max_positions positions, <s> included.
  if (options.max_output_tokens > max_positions - 1) {
    fail(names.max_len,
         "must be at most " + std::to_string(max_positions - 1) + " (the model's positions - 1)",
         options.max_output_tokens);
  }
}

std::string cut_to_bytes(const std::string& text, int64_t max_bytes) {
  if (static_cast<int64_t>(text.size()) <= max_bytes) return text;
  auto end = static_cast<size_t>(max_bytes);
  // Step back over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace qkv
