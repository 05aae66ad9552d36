// The one lane-mask helper of the AVX-512 loops (vector_math.cpp, amx_linear.cpp, bf16_rows.cpp):
// which of 16 float lanes lie inside an array, for the masked loads and stores of its tail.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace qkv {

/// The first min(left, 16) of 16 lanes set (left >= 0).
inline __mmask16 lanes_left(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF)
                    : static_cast<__mmask16>((1U << static_cast<unsigned>(left)) - 1U);
}

}  // namespace qkv
