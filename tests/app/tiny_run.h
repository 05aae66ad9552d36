// A seconds-long `qkv train` on the small fixture corpus, for tests that need a real run
// directory: 6 steps, validation at 3 and 6, a line every 2 steps.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace qkv::testing {

/// `qkv train` arguments that write the run to DIR/run (prepared data in DIR/prepared).
inline std::vector<std::string> train_args(const std::filesystem::path& dir) {
  const std::string fixtures = QKV_FIXTURES_DIR;
  return {"train",
          "--config",
          QKV_SOURCE_DIR "/configs/en-de-tiny.yaml",
          "--run-dir",
          (dir / "run").string(),
          "--set",
          "data.corpus=files",
          "--set",
          "data.train_source=" + fixtures + "/data/small.en",
          "--set",
          "data.train_target=" + fixtures + "/data/small.de",
          "--set",
          "data.valid_source=" + fixtures + "/data/small.en",
          "--set",
          "data.valid_target=" + fixtures + "/data/small.de",
          "--set",
          "data.prepared_dir=" + (dir / "prepared").string(),
          "--set",
          "data.vocab_size=100",
          "--set",
          "train.max_steps=6",
          "--set",
          "train.warmup_steps=2",
          "--set",
          "train.log_every=2",
          "--set",
          "train.validate_every=3",
          "--set",
          "train.valid_max_sentences=4"};
}

/// The whole file, "" when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace qkv::testing
