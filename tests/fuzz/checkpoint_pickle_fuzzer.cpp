// libFuzzer entry point for check_checkpoint_pickle_input (see fuzz_checks.h): aborts on a
// violation.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string problem = qkv::fuzz::check_checkpoint_pickle_input(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!problem.empty()) {
    std::fprintf(stderr, "checkpoint_pickle_fuzzer: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
