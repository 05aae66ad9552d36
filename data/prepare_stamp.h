// The stamp file a finished `prepare` writes last into its output folder: a fingerprint of its
// inputs and the counts it reported. A later prepare with the same fingerprint reuses the
// files; a missing, damaged or different stamp means "prepare again".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qkv {

struct PrepareStamp {
  std::string fingerprint;  // input_fingerprint() of the run that wrote the files
  int64_t train_pairs = 0;
  int64_t valid_pairs = 0;
  int64_t test_pairs = 0;
  bool has_test = true;                                      // false: no test split
  std::vector<std::pair<std::string, int64_t>> rule_counts;  // names must not contain newlines
};

/// One line identifying the inputs: `description` (corpus, languages) plus each file's absolute
/// path, size and modification time ("missing" for a file that is not there).
std::string input_fingerprint(const std::string& description,
                              const std::vector<std::filesystem::path>& inputs);

/// Writes `stamp` atomically to `path`.
void write_prepare_stamp(const std::filesystem::path& path, const PrepareStamp& stamp);

/// The stamp at `path`, or nullopt when it is missing, unreadable, of another format version,
/// or damaged.
std::optional<PrepareStamp> read_prepare_stamp(const std::filesystem::path& path);

}  // namespace qkv
