// The properties the fuzz targets check, one function per target, shared by the libFuzzer
// targets (tests/fuzz/*_fuzzer.cpp) and by the regression test that replays the seed corpus
// and every crasher found (tests/reliability/fuzz_regression_test.cpp). Each returns "" when
// the property holds and a description of the violation otherwise; an exception of an
// unexpected type propagates (libFuzzer reports it as a crash, the test as a failure).
#pragma once

#include <string>
#include <string_view>

namespace qkv::fuzz {

/// parse_experiment_config on `input` (lines "#set SECTION.KEY=VALUE", YAML comments, are also
/// applied as --set overrides) returns a config or throws ConfigError; a config it returns
/// survives to_yaml -> parse unchanged, with and without docs (runs are saved and resumed so).
std::string check_config_input(std::string_view input);

/// read_ding_sentences on a file holding `input` returns or throws std::runtime_error; every
/// pair it keeps is valid UTF-8 and a full sentence on both sides, without tabs or line breaks,
/// and counts.kept equals the number of pairs.
std::string check_ding_input(std::string_view input);

/// load_checkpoint on a file holding `input` returns a checkpoint or throws CheckpointError;
/// a checkpoint it returns saves and loads back to the same checksum-verified content.
std::string check_checkpoint_input(std::string_view input);

/// check_checkpoint_input on a well-formed torch.save archive (valid zip, right CRC-32s) whose
/// data.pkl is `input` and whose storage records data/0 .. data/7 hold 64 bytes each: fuzzes
/// the pickle check and LibTorch's unpickler behind it, which byte-level mutations of a whole
/// file rarely reach (every change breaks a CRC-32).
std::string check_checkpoint_pickle_input(std::string_view input);

}  // namespace qkv::fuzz
