// metrics.jsonl: one JSON object per line, per logged step ({"type": "train", ...}) and per
// validation ({"type": "valid", ...}). Flushed after every line, so a killed run keeps them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace qkv {

struct MetricsRecord {
  std::string type;  // "train" or "valid"
  int64_t step = 0;
  std::map<std::string, double> values;  // e.g. loss, lr, tokens_per_s / valid_loss, bleu
};

class MetricsLog {
 public:
  /// Opens `path` for appending. When resuming from `resume_step`, lines of later steps (written
  /// after that checkpoint by the interrupted run) are dropped first, so the log stays the log
  /// of one run.
  MetricsLog(const std::filesystem::path& path, int64_t resume_step);
  void append(const MetricsRecord& record);

  /// All records of a metrics.jsonl file (empty lines skipped). Throws std::runtime_error
  /// naming the file when it is missing, and file and line for a line that is not a JSON object.
  static std::vector<MetricsRecord> read(const std::filesystem::path& path);

 private:
  std::ofstream out_;
};

}  // namespace qkv
