// End-to-end tests of `qkv translate` as a user runs it, and of the subcommands that use the
// same trained run (`qkv evaluate`, `qkv average`, `qkv bench translate`): one tiny model is
// trained (seconds) and then exercised in every input mode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <filesystem>
#include <fstream>

#include "tests/app/run_command.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::lines_of;
using testing::run_qkv;

const std::string kFixtures = QKV_FIXTURES_DIR;

// Whether this machine offers CUDA to qkv (then --device auto is not the CPU).
bool torch_has_cuda() { return torch::cuda::is_available(); }

class TranslateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("qkv_translate_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const auto result = run_qkv({"-q",        "train",
                                 "--config",  QKV_SOURCE_DIR "/configs/en-de-tiny.yaml",
                                 "--run-dir", (dir_ / "run").string(),
                                 "--set",     "data.corpus=files",
                                 "--set",     "data.train_source=" + kFixtures + "/data/small.en",
                                 "--set",     "data.train_target=" + kFixtures + "/data/small.de",
                                 "--set",     "data.valid_source=" + kFixtures + "/data/small.en",
                                 "--set",     "data.valid_target=" + kFixtures + "/data/small.de",
                                 "--set",     "data.prepared_dir=" + (dir_ / "prepared").string(),
                                 "--set",     "data.vocab_size=100",
                                 "--set",     "train.max_steps=6",
                                 "--set",     "train.warmup_steps=2",
                                 "--set",     "train.validate_every=3",
                                 "--set",     "train.valid_max_sentences=4"},
                                "",
                                600);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string run_dir() { return (dir_ / "run").string(); }
  static fs::path dir_;
};
fs::path TranslateCli::dir_;

TEST_F(TranslateCli, ArgumentsStdinAndFilesAgreeAndKeepOrder) {
  const std::vector<std::string> sentences = {
      "The house is big.", "", "My sister reads a book.", "The garden is green.", "Tea?"};
  // 1. Arguments: one line per sentence, in order.
  std::vector<std::string> args = {"-q", "translate", "--model", run_dir(), "--beam", "1"};
  args.insert(args.end(), sentences.begin(), sentences.end());
  const auto by_args = run_qkv(args);
  ASSERT_EQ(by_args.exit_code, 0) << by_args.err;
  const auto expected = lines_of(by_args.out);
  ASSERT_EQ(expected.size(), sentences.size());
  EXPECT_EQ(expected[1], "");  // empty line in, empty line out
  // 2. stdin, streamed line by line.
  std::string input;
  for (const auto& s : sentences) input += s + "\n";
  const auto by_stdin = run_qkv({"-q", "translate", "--model", run_dir(), "--beam", "1"}, input);
  ASSERT_EQ(by_stdin.exit_code, 0) << by_stdin.err;
  EXPECT_EQ(lines_of(by_stdin.out), expected);
  // 3. A file, in batches of a tiny budget (length-sorted inside): the order is restored.
  std::ofstream(dir_ / "in.txt") << input;
  const auto by_file = run_qkv({"translate",
                                "--model",
                                run_dir(),
                                "--beam",
                                "1",
                                "--max-tokens",
                                "8",
                                "--input",
                                (dir_ / "in.txt").string(),
                                "--output",
                                (dir_ / "out.txt").string()});
  ASSERT_EQ(by_file.exit_code, 0) << by_file.err;
  std::ifstream out(dir_ / "out.txt");
  const std::string written((std::istreambuf_iterator<char>(out)),
                            std::istreambuf_iterator<char>());
  EXPECT_EQ(lines_of(written), expected);
  EXPECT_THAT(by_file.err, HasSubstr("sentences/s"));  // throughput on stderr
}

TEST_F(TranslateCli, NbestScoresAndOverlongInput) {
  const auto nbest =
      run_qkv({"-q", "translate", "--model", run_dir(), "--beam", "3", "--nbest", "3", "Hello."});
  ASSERT_EQ(nbest.exit_code, 0) << nbest.err;
  const auto lines = lines_of(nbest.out);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines)
    EXPECT_EQ(line.rfind("0\t-", 0), 0u) << line;  // "0<TAB>-1.23<TAB>text"
  // An input longer than the model's positions is truncated with a warning, not an error.
  std::string longest;
  for (int i = 0; i < 700; ++i) longest += "house ";
  const auto overlong =
      run_qkv({"translate", "--model", run_dir(), "--beam", "1", "--max-len", "5"}, longest + "\n");
  EXPECT_EQ(overlong.exit_code, 0) << overlong.err;
  EXPECT_EQ(lines_of(overlong.out).size(), 1u);
  EXPECT_THAT(overlong.err, HasSubstr("longer than"));
}

TEST_F(TranslateCli, EvaluateScoresTheRunsTestSplitAndBadFlagsFail) {
  const auto result =
      run_qkv({"evaluate", "--model", run_dir(), "--split", "valid", "--beam", "2", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"bleu\":"));
  EXPECT_THAT(result.out, HasSubstr("\"sentences\":40"));
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"translate", "--model", run_dir(), "--beam", "0", "x"},
        {"translate", "--model", run_dir(), "--max-len", "-1", "x"},
        {"translate", "--model", run_dir(), "--beam", "2", "--nbest", "3", "x"}}) {
    const auto r = run_qkv(bad);
    EXPECT_EQ(r.exit_code, 1) << bad[3];
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  }
}

TEST_F(TranslateCli, HeadsOffChangesScoresAndABadSpecIsOneLine) {
  const std::vector<std::string> base = {
      "-q", "translate", "--model", run_dir(), "--beam", "2", "--scores", "The house is big."};
  const auto all_on = run_qkv(base);
  ASSERT_EQ(all_on.exit_code, 0) << all_on.err;
  auto args = base;
  args.insert(args.end(), {"--heads-off", "decoder.0.cross_attn:0,1,2,3;encoder.0.self_attn:1"});
  const auto some_off = run_qkv(args);
  ASSERT_EQ(some_off.exit_code, 0) << some_off.err;
  ASSERT_EQ(lines_of(some_off.out).size(), 1u);
  EXPECT_NE(some_off.out, all_on.out);  // the score (at least) moves
  // The tiny run has one encoder and one decoder layer of 4 heads.
  for (const auto& [spec, message] : std::vector<std::pair<std::string, std::string>>{
           {"decoder.1.cross_attn:0", "--heads-off: unknown attention site 'decoder.1.cross_attn'"},
           {"decoder.0.cross_attn:4", "--heads-off: decoder.0.cross_attn: head 4 is out of range"},
           {"encoder.0.cross_attn:0", "--heads-off: unknown attention site 'encoder.0.cross_attn'"},
           {"decoder.0.self_attn", "--heads-off: 'decoder.0.self_attn' has no ':HEADS'"},
           {"decoder.0.self_attn:one", "head 'one' is not a head number"},
           {"", "--heads-off: empty head mask"}}) {
    const auto r = run_qkv({"translate", "--model", run_dir(), "--heads-off", spec, "x"});
    EXPECT_EQ(r.exit_code, 1) << spec;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
  }
}

TEST_F(TranslateCli, AverageWritesACheckpointThatTranslates) {
  // Without average.pt, --checkpoint average names the command that makes it.
  const auto missing = run_qkv({"translate", "--model", run_dir(), "--checkpoint", "average", "x"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("qkv average --model"));
  const auto result = run_qkv({"average", "--model", run_dir(), "--last", "2"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("averaged 2 checkpoints (step-3.pt, step-6.pt)"));
  EXPECT_TRUE(fs::exists(dir_ / "run/checkpoints/average.pt"));
  const auto translated = run_qkv(
      {"-q", "translate", "--model", run_dir(), "--checkpoint", "average", "The house is big."});
  ASSERT_EQ(translated.exit_code, 0) << translated.err;
  EXPECT_EQ(lines_of(translated.out).size(), 1u);
  const auto bad = run_qkv({"average", "--model", run_dir(), "--last", "0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(lines_of(bad.err).size(), 1u) << bad.err;
}

TEST_F(TranslateCli, BenchTranslateTimesRealSentencesEndToEnd) {
  std::ofstream(dir_ / "bench.en") << "The house is big.\nMy sister reads a book.\nTea?\n";
  const auto result = run_qkv({"-q",
                               "bench",
                               "translate",
                               "--model",
                               run_dir(),
                               "--input",
                               (dir_ / "bench.en").string(),
                               "--beam",
                               "2",
                               "--runs",
                               "2"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"mode\":\"translate\""));
  EXPECT_THAT(result.out, HasSubstr("\"beam\":2"));
  EXPECT_THAT(result.out, HasSubstr("\"sentences\":3"));
  EXPECT_THAT(result.out, HasSubstr("\"sentences_per_s\":"));
  const auto missing = run_qkv({"bench", "translate"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("--model RUN_DIR is required"));
}

// --device cpu is what auto picks on a machine without CUDA (the same output); asking for CUDA
// where this LibTorch or machine has none, or for no device at all, is one line and exit 1.
TEST_F(TranslateCli, DeviceFlagPicksTheCpuAndRefusesWhatIsNotThere) {
  const auto on_cpu = run_qkv({"-q", "translate", "--model", run_dir(), "--device", "cpu", "Tea?"});
  ASSERT_EQ(on_cpu.exit_code, 0) << on_cpu.err;
  const auto automatic = run_qkv({"-q", "translate", "--model", run_dir(), "Tea?"});
  ASSERT_EQ(automatic.exit_code, 0) << automatic.err;
  if (!torch_has_cuda()) {
    EXPECT_EQ(on_cpu.out, automatic.out);
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"translate", "--model", run_dir(), "--device", "gpu", "Tea?"},
        std::vector<std::string>{"evaluate", "--model", run_dir(), "--device", "cuda:x"},
        std::vector<std::string>{"bench", "greedy", "--device", "tpu"}}) {
    const auto result = run_qkv(args);
    EXPECT_EQ(result.exit_code, 1) << args[0];
    EXPECT_THAT(result.err, HasSubstr("is not one of: auto, cpu, cuda or cuda:N")) << args[0];
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
  }
  if (torch_has_cuda()) return;
  const auto cuda =
      run_qkv({"attention", "--model", run_dir(), "--device", "cuda", "--show", "Tea?"});
  EXPECT_EQ(cuda.exit_code, 1);
  EXPECT_THAT(cuda.err, HasSubstr("qkv: error: --device cuda: "));
  EXPECT_EQ(lines_of(cuda.err).size(), 1u) << cuda.err;
}

TEST(TranslateCliErrors, UnknownRunDirectoryIsOneClearLine) {
  const auto result = run_qkv({"translate", "--model", "/nonexistent/run", "Hello."});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "qkv: error: run directory /nonexistent/run does not exist\n");
}

}  // namespace
}  // namespace qkv
