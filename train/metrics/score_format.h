// Formatting shared by the BLEU and chrF reports: Python-style fixed-point numbers and the
// tail of the sacreBLEU-style signatures.
#pragma once

#include <cstdio>
#include <string>

namespace qkv {

/// The last fields of every signature. sacreBLEU writes its own version there; qkv mirrors the
/// behaviour of the sacreBLEU 2.x series and says that this is qkv's reimplementation.
inline constexpr const char* kSignatureVersion = "version:2.x|impl:qkv";

/// Python's f"{value:.{decimals}f}" (both round the exact binary value half-to-even).
inline std::string format_fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

}  // namespace qkv
