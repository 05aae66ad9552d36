// `qkv heads` as a user runs it on a tiny trained run (1 + 1 layers, 4 heads: 3 sites): the
// table, heads.json with every head, site and layer and the pruning curve, the two PNGs; bad
// input is one line and a non-zero exit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/app/run_command.h"
#include "tests/app/tiny_run.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::lines_of;
using testing::run_qkv;

class HeadsCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("qkv_heads_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto args = testing::train_args(dir_);
    args.insert(args.begin(), "-q");
    const auto trained = run_qkv(args, "", 600);
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string run_dir() { return (dir_ / "run").string(); }
  static fs::path dir_;
};
fs::path HeadsCli::dir_;

bool is_png(const fs::path& path) {
  const std::string bytes = testing::read_file(path);
  return bytes.size() > 100 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

TEST_F(HeadsCli, WritesTheTableJsonAndTwoPngs) {
  const fs::path out = dir_ / "heads";
  const auto r = run_qkv(
      {"-q", "heads", "--model", run_dir(), "--metric", "chrf", "--sentences", "5", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("chrF with the head off - chrF with all on"));
  EXPECT_THAT(r.out, HasSubstr("decoder.0.cross_attn"));
  EXPECT_THAT(r.out, HasSubstr("pruning curve"));

  const auto j = nlohmann::json::parse(testing::read_file(out / "heads.json"));
  EXPECT_EQ(j["metric"], "chrf");
  EXPECT_EQ(j["split"], "valid");
  EXPECT_EQ(j["metric_sentences"], 5);
  EXPECT_EQ(j["loss_sentences"], 40);  // every fixture pair
  EXPECT_EQ(j["num_heads"], 4);
  EXPECT_EQ(j["sites"],
            nlohmann::json({"encoder.0.self_attn", "decoder.0.self_attn", "decoder.0.cross_attn"}));
  ASSERT_EQ(j["heads"].size(), 12u);
  EXPECT_EQ(j["heads"][5]["site"], "decoder.0.self_attn");
  EXPECT_EQ(j["heads"][5]["head"], 1);
  EXPECT_DOUBLE_EQ(j["heads"][5]["importance"].get<double>(),
                   j["heads"][5]["metric"].get<double>() - j["full"]["metric"].get<double>());
  EXPECT_EQ(j["sites_off"].size(), 3u);
  EXPECT_EQ(j["layers_off"].size(), 2u);
  ASSERT_EQ(j["pruning"].size(), 13u);
  EXPECT_TRUE(j["pruning"][0]["head"].is_null());
  EXPECT_EQ(j["pruning"][0]["metric"], j["full"]["metric"]);
  EXPECT_EQ(j["pruning"][12]["heads_off"], 12);
  EXPECT_THAT(j["method"].get<std::string>(), HasSubstr("teacher-forced loss on all 40"));
  EXPECT_GT(j["seconds"].get<double>(), 0);
  EXPECT_TRUE(is_png(out / "importance.png"));
  EXPECT_TRUE(is_png(out / "pruning.png"));
}

TEST_F(HeadsCli, BadInputIsOneLineAndFails) {
  const std::string file = (dir_ / "a_file").string();
  std::ofstream(file) << "x";
  const std::string missing = (dir_ / "no_run").string();
  for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--model", missing}, "--model: no run directory at " + missing},
           {{"--model", run_dir(), "--metric", "ter"},
            "--metric: 'ter' is not one of: bleu, chrf, loss"},
           {{"--model", run_dir(), "--sentences", "0"}, "--sentences: must be at least 1, got 0"},
           {{"--model", run_dir(), "--out", file + "/heads"},
            "--out: cannot create the folder " + file + "/heads"}}) {
    std::vector<std::string> argv = {"heads"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_qkv(argv);
    EXPECT_NE(r.exit_code, 0) << message;
    ASSERT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("qkv: error: " + message));
  }
  EXPECT_FALSE(fs::exists(missing)) << "no folder made for a missing run";
}

}  // namespace
}  // namespace qkv
