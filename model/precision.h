// Number formats for the large matrix products (projections, feed-forward, output layer): the
// one place that says what "auto", "fp32", "bf16" and "int8" mean and what this CPU runs
// natively. What stays float32 in every precision: master weights and optimizer state,
// embeddings, softmax and the attention kernel, LayerNorm, residual sums and the loss.
//
//   fp32  float32 everywhere (the reference; bit-identical to builds before precisions existed)
//   bf16  bfloat16 inputs and weights in the large GEMMs, float32 accumulation (oneDNN on CPUs
//         with AVX512-BF16 or AMX, and qkv's AMX tile kernel for decoding; training: our own
//         casts on CPU, autocast on CUDA)
//   int8  decoding only: weights quantized per output row once at load, activations per call
//         (qkv's AMX tile kernel, kernels/amx_linear.h, where the CPU has AMX-INT8; else
//         LibTorch's dynamic quantized linear, oneDNN engine)
//   auto  bf16 on CPUs whose flags show native bf16, fp32 elsewhere (never int8: it changes
//         the numbers more, so it is only used when asked for)
#pragma once

#include <c10/core/Device.h>

#include <array>
#include <optional>
#include <string>
#include <utility>

namespace qkv {

enum class Precision { kAuto, kFp32, kBf16, kInt8 };
constexpr std::array<std::pair<Precision, const char*>, 4> enum_names(Precision) {
  return {{{Precision::kAuto, "auto"},
           {Precision::kFp32, "fp32"},
           {Precision::kBf16, "bf16"},
           {Precision::kInt8, "int8"}}};
}

/// "auto", "fp32", "bf16" or "int8"; nothing for any other text.
std::optional<Precision> parse_precision(const std::string& text);

/// The spelling parse_precision reads.
const char* precision_name(Precision precision);

/// What the CPU offers for low precision, from CPUID (read once per process).
/// QKV_CPU_BF16=0 in the environment reports no native bf16 whatever the CPU has (to test and
/// compare the fallback on any machine); ScopedCpuBf16 does the same in-process for tests.
struct CpuPrecisionSupport {
  bool avx512_bf16 = false;  // AVX512-BF16: bf16 dot products in AVX-512 registers
  bool amx_bf16 = false;     // AMX-BF16: bf16 tile matrix multiply (Intel Sapphire Rapids on)
  bool amx_int8 = false;     // AMX-INT8: int8 tile matrix multiply
  bool avx512_vnni = false;  // AVX512-VNNI: int8 dot products
  bool native_bf16() const { return avx512_bf16 || amx_bf16; }
  std::string flags() const;  // e.g. "avx512_bf16 amx_bf16 amx_int8 avx512_vnni", or "none"
};
CpuPrecisionSupport cpu_precision_support();

/// The precision `requested` means on `device`, and why, in one line for the log:
/// auto -> bf16 with native bf16 on a CPU, else fp32; fp32 -> fp32; bf16 -> bf16 (on a CPU
/// without native bf16 the reason warns that it is emulated and slower); int8 -> int8 on a
/// CPU. Throws std::invalid_argument naming `setting` for int8 on a GPU, or for int8 when
/// `for_training` (int8 is for decoding).
struct ResolvedPrecision {
  Precision precision = Precision::kFp32;
  std::string reason;  // e.g. "auto: bf16, the CPU has avx512_bf16 amx_bf16"
  bool slow = false;   // asked for bf16 or int8 without the CPU feature that makes it fast
};
ResolvedPrecision resolve_precision(Precision requested,
                                    torch::Device device,
                                    const std::string& setting,
                                    bool for_training);

/// The precision a --precision flag's `text` means on `device`: std::invalid_argument
/// ("--precision: 'x' is not one of: auto, fp32, bf16, int8") for a spelling that is no
/// precision, else resolve_precision(..., "--precision", for_training).
ResolvedPrecision resolve_precision_flag(const std::string& text,
                                         torch::Device device,
                                         bool for_training);

/// RAII override of native bf16 detection for tests: ScopedCpuBf16 off(false); makes
/// cpu_precision_support() report no bf16 until the scope ends. Not thread-safe.
class ScopedCpuBf16 {
 public:
  explicit ScopedCpuBf16(bool available);
  ~ScopedCpuBf16();
  ScopedCpuBf16(const ScopedCpuBf16&) = delete;
  ScopedCpuBf16& operator=(const ScopedCpuBf16&) = delete;

 private:
  int previous_;
};

}  // namespace qkv
