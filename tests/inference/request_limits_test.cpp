// inference/request_limits: the bounds on one request's work, named as the CLI or the API
// calls each setting; cutting text at a UTF-8 character boundary.
#include "inference/request_limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace qkv {
namespace {

using ::testing::HasSubstr;

std::string error_of(const TranslateOptions& options, const LimitNames& names) {
  try {
    check_request_limits(options, /*max_positions=*/128, names);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(RequestLimits, BeamNbestAndLengthAreBoundedWithTheirNames) {
  TranslateOptions options;
  options.decode.beam_size = 4;
  EXPECT_EQ(error_of(options, kCliLimitNames), "no error");
  options.decode.beam_size = 10000;
  EXPECT_EQ(error_of(options, kCliLimitNames), "--beam: must be at most 64, got 10000");
  EXPECT_EQ(error_of(options, kApiLimitNames), "beam: must be at most 64, got 10000");
  options.decode.beam_size = 2;
  options.n_best = 3;
  EXPECT_THAT(error_of(options, kCliLimitNames),
              HasSubstr("--nbest: must be between 1 and the beam size 2"));
  options.n_best = 1;
  options.max_output_tokens = 500;
  EXPECT_EQ(error_of(options, kApiLimitNames),
            "max_len: must be at most 127 (the model's positions - 1), got 500");
  options.max_output_tokens = 127;
  EXPECT_EQ(error_of(options, kApiLimitNames), "no error");
}

TEST(RequestLimits, CutToBytesKeepsWholeCharacters) {
  EXPECT_EQ(cut_to_bytes("short", 10), "short");
  EXPECT_EQ(cut_to_bytes("abcdef", 3), "abc");
  // "Ж" is two bytes (D0 96): a cut inside it drops the whole character.
  EXPECT_EQ(cut_to_bytes("aЖb", 2), "a");
  EXPECT_EQ(cut_to_bytes("aЖb", 3), "aЖ");
}

}  // namespace
}  // namespace qkv
