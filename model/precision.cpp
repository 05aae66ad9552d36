// Precision names, CPU feature detection and what "auto" resolves to (see precision.h).
#include "model/precision.h"

#include <cpuid.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace qkv {

namespace {

// ScopedCpuBf16's override: -1 none, 0 no bf16, 1 as detected.
std::atomic<int> forced_bf16{-1};

// The features as the CPU and the OS report them. AVX-512 needs the OS to save its registers
// (__builtin_cpu_supports checks that); AMX needs the tile state enabled in XCR0 (bits 17, 18).
CpuPrecisionSupport detect() {
  CpuPrecisionSupport s;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__builtin_cpu_supports("avx512f") || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    return s;
  }
  s.avx512_vnni = (ecx >> 11) & 1u;
  const bool amx_bf16 = (edx >> 22) & 1u, amx_tile = (edx >> 24) & 1u, amx_int8 = (edx >> 25) & 1u;
  if (amx_tile) {
    unsigned xcr0_low = 0, xcr0_high = 0;
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    const bool tile_state = ((xcr0_low >> 17) & 3u) == 3u;
    s.amx_bf16 = amx_bf16 && tile_state;
    s.amx_int8 = amx_int8 && tile_state;
  }
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) s.avx512_bf16 = (eax >> 5) & 1u;
  return s;
}

bool bf16_switched_off() {
  const int override_state = forced_bf16.load(std::memory_order_relaxed);
  if (override_state >= 0) return override_state == 0;
  static const bool off = [] {
    const char* value = std::getenv("QKV_CPU_BF16");
    return value != nullptr && std::string(value) == "0";
  }();
  return off;
}

}  // namespace

std::optional<Precision> parse_precision(const std::string& text) {
  for (const auto& [value, name] : enum_names(Precision{})) {
    if (text == name) return value;
  }
  return std::nullopt;
}

const char* precision_name(Precision precision) {
  for (const auto& [value, name] : enum_names(Precision{})) {
    if (value == precision) return name;
  }
  return "?";
}

std::string CpuPrecisionSupport::flags() const {
  std::string text;
  for (const auto& [on, name] : {std::pair{avx512_bf16, "avx512_bf16"},
                                 std::pair{amx_bf16, "amx_bf16"},
                                 std::pair{amx_int8, "amx_int8"},
                                 std::pair{avx512_vnni, "avx512_vnni"}}) {
    if (on) text += (text.empty() ? "" : " ") + std::string(name);
  }
  return text.empty() ? "none" : text;
}

CpuPrecisionSupport cpu_precision_support() {
  static const CpuPrecisionSupport detected = detect();
  CpuPrecisionSupport s = detected;
  if (bf16_switched_off()) s.avx512_bf16 = s.amx_bf16 = false;
  return s;
}

ResolvedPrecision resolve_precision(Precision requested,
                                    torch::Device device,
                                    const std::string& setting,
                                    bool for_training) {
  const std::string asked = setting + " " + precision_name(requested);
  if (requested == Precision::kInt8 && (for_training || !device.is_cpu())) {
    throw std::invalid_argument(
        setting + ": int8 is for decoding on a CPU" +
        (for_training ? std::string(", not for training") : ", not on " + device.str()) +
        "; use auto, fp32 or bf16");
  }
  if (!device.is_cpu()) {  // CUDA: bf16 through autocast; auto stays fp32 until measured there
    const Precision p = requested == Precision::kBf16 ? Precision::kBf16 : Precision::kFp32;
    return {p, asked + ": " + precision_name(p) + " on " + device.str(), false};
  }
  const CpuPrecisionSupport cpu = cpu_precision_support();
  switch (requested) {
    case Precision::kAuto:
      if (cpu.native_bf16())
        return {Precision::kBf16, asked + ": bf16, the CPU has " + cpu.flags()};
      return {Precision::kFp32, asked + ": fp32, the CPU has no native bf16 (AVX512-BF16 or AMX)"};
    case Precision::kFp32:
      return {Precision::kFp32, asked};
    case Precision::kBf16:
      if (cpu.native_bf16()) return {Precision::kBf16, asked + " (CPU: " + cpu.flags() + ")"};
      return {Precision::kBf16,
              asked +
                  ": this CPU has no native bf16 (AVX512-BF16 or AMX); bf16 is emulated "
                  "and likely slower than fp32",
              true};
    case Precision::kInt8:
      if (cpu.avx512_vnni) return {Precision::kInt8, asked + " (CPU: " + cpu.flags() + ")"};
      return {Precision::kInt8,
              asked + ": this CPU has no AVX512-VNNI; int8 runs without it and may be slower",
              true};
  }
  return {Precision::kFp32, asked};
}

ResolvedPrecision resolve_precision_flag(const std::string& text,
                                         torch::Device device,
                                         bool for_training) {
  const auto precision = parse_precision(text);
  if (!precision) {
    throw std::invalid_argument("--precision: '" + text +
                                "' is not one of: auto, fp32, bf16, int8");
  }
  return resolve_precision(*precision, device, "--precision", for_training);
}

ScopedCpuBf16::ScopedCpuBf16(bool available) : previous_(forced_bf16.exchange(available ? 1 : 0)) {}

ScopedCpuBf16::~ScopedCpuBf16() { forced_bf16.store(previous_); }

}  // namespace qkv
