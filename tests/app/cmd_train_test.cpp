// `qkv train` as a user runs it: what the CLI plugs into the trainer's hooks (the probe
// sentences' attention at every validation, the loss plot at the end), and train.log keeping
// every step line when training runs in a terminal (stderr a pseudo-terminal, via script(1)).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/app/run_command.h"
#include "tests/app/tiny_run.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::read_file;
using testing::run_qkv;
using testing::train_args;

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qkv_train_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TrainCli, WritesProbeAttentionAtEachValidationAndTheLossPlot) {
  auto args = train_args(dir_);
  args.insert(args.end(), {"--set", "train.probe_sentences=[\"the big dog sees the cat .\"]"});
  const auto result = run_qkv(args, "", 600);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const fs::path run = dir_ / "run";
  for (const char* step : {"step-3.json", "step-6.json"}) {
    const std::string json = read_file(run / "attention" / step);
    EXPECT_THAT(json, HasSubstr("\"source\":\"the big dog sees the cat .\"")) << step;
    EXPECT_THAT(json, HasSubstr("\"cross_attn\":[[")) << step;
  }
  // The loss plot: a PNG (signature bytes) of the default 900 x 500 (IHDR width, height).
  const std::string png = read_file(run / "loss.png");
  ASSERT_GE(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(png.substr(16, 8), std::string("\0\0\x03\x84\0\0\x01\xf4", 8));
}

TEST_F(TrainCli, TrainLogKeepsEveryStepLineInATerminal) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "script(1) from util-linux is not installed";
  }
  std::string command = "script -qec '" QKV_BINARY;
  for (const auto& arg : train_args(dir_)) command += " \"" + arg + "\"";
  command += "' /dev/null > " + (dir_ / "terminal.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_file(dir_ / "terminal.txt");
  // The terminal saw a live line (carriage returns), the log file the step lines.
  EXPECT_THAT(read_file(dir_ / "terminal.txt"), HasSubstr("\r"));
  const std::string log = read_file(dir_ / "run" / "train.log");
  for (const char* step : {"step 2 |", "step 4 |", "step 6 |"}) {
    EXPECT_THAT(log, HasSubstr(std::string("[train] ") + step)) << log;
  }
}

}  // namespace
}  // namespace qkv
