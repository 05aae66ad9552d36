// Precision names, CPU detection and what auto resolves to (model/precision.h).
#include "model/precision.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace qkv {
namespace {

TEST(Precision, NamesRoundTrip) {
  for (const auto& [value, name] : enum_names(Precision{})) {
    EXPECT_EQ(parse_precision(name), value);
    EXPECT_STREQ(precision_name(value), name);
  }
  EXPECT_FALSE(parse_precision("fp16").has_value());
  EXPECT_FALSE(parse_precision("BF16").has_value());
}

TEST(Precision, FlagErrorsAreOneLineNamingTheFlag) {
  try {
    resolve_precision_flag("fp16", torch::kCPU, false);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--precision: 'fp16' is not one of: auto, fp32, bf16, int8");
  }
  try {
    resolve_precision(Precision::kInt8, torch::kCPU, "train.precision", /*for_training=*/true);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("train.precision: int8 is for decoding", 0), 0u);
  }
}

TEST(Precision, AutoFollowsTheCpuAndExplicitBf16AlwaysWorks) {
  const bool native = cpu_precision_support().native_bf16();
  const auto detected = resolve_precision(Precision::kAuto, torch::kCPU, "--precision", false);
  EXPECT_EQ(detected.precision, native ? Precision::kBf16 : Precision::kFp32) << detected.reason;
  {
    ScopedCpuBf16 off(false);  // as on a CPU without AVX512-BF16 or AMX
    EXPECT_FALSE(cpu_precision_support().native_bf16());
    EXPECT_EQ(cpu_precision_support().flags().find("bf16"), std::string::npos);
    const auto auto_off = resolve_precision(Precision::kAuto, torch::kCPU, "--precision", false);
    EXPECT_EQ(auto_off.precision, Precision::kFp32);
    EXPECT_NE(auto_off.reason.find("no native bf16"), std::string::npos) << auto_off.reason;
    const auto forced = resolve_precision(Precision::kBf16, torch::kCPU, "--precision", false);
    EXPECT_EQ(forced.precision, Precision::kBf16);
    EXPECT_TRUE(forced.slow);
    EXPECT_EQ(forced.reason.find('\n'), std::string::npos);
  }
  EXPECT_EQ(cpu_precision_support().native_bf16(), native);
  const auto fp32 = resolve_precision(Precision::kFp32, torch::kCPU, "--precision", false);
  EXPECT_EQ(fp32.precision, Precision::kFp32);
  EXPECT_FALSE(fp32.slow);
}

}  // namespace
}  // namespace qkv
