// `qkv score` run as a user would: text and JSON output, the label of non-default settings,
// and the errors for a missing file and for files of different lengths.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace qkv {
namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class ScoreCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qkv_score_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // sacreBLEU's README example, first reference stream (see sacrebleu_published_test.cpp).
    hyp_ = write("hyp.txt",
                 "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n");
    ref_ =
        write("ref.txt", "The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Runs `qkv score ARGS`, capturing stdout and stderr.
  Result run(const std::string& args) const {
    const fs::path err_path = dir_ / "stderr.txt";
    const std::string command =
        std::string("'") + QKV_BINARY + "' score " + args + " 2> '" + err_path.string() + "'";
    Result result;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "cannot run " << command;
      return result;
    }
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      result.out.append(buffer, n);
    }
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err(err_path);
    std::stringstream text;
    text << err.rdbuf();
    result.err = text.str();
    return result;
  }

  std::string files() const {
    return "--hyp '" + hyp_.string() + "' --ref '" + ref_.string() + "'";
  }

  fs::path dir_;
  fs::path hyp_;
  fs::path ref_;
};

TEST_F(ScoreCommandTest, PrintsBleuAndChrfWithSignatures) {
  const Result r = run(files());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Values: see sacrebleu_reference.py on the same three lines (45.0675..., 50.0430...).
  EXPECT_EQ(r.out,
            "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x|impl:qkv = 45.07 "
            "70.6/42.9/36.4/37.5 (BP = 1.000 ratio = 1.000 hyp_len = 17 ref_len = 17)\n"
            "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x|impl:qkv = 50.04\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(ScoreCommandTest, JsonHasScoresSignaturesCountsAndTiming) {
  const Result r = run(files() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out);
  EXPECT_NEAR(report["bleu"]["score"].get<double>(), 45.06750632106114, 1e-9);
  EXPECT_EQ(report["bleu"]["counts"], nlohmann::json({12, 6, 4, 3}));
  EXPECT_EQ(report["bleu"]["signature"],
            "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x|impl:qkv");
  EXPECT_NEAR(report["chrf"]["score"].get<double>(), 50.043063606582294, 1e-9);
  EXPECT_EQ(report["segments"], 3);
  EXPECT_GE(report["seconds"].get<double>(), 0.0);
}

TEST_F(ScoreCommandTest, LowercaseTokenizeNoneIsLabelled) {
  const Result r = run(files() + " --lowercase --tokenize none");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("BLEU|nrefs:1|case:lc|eff:no|tok:none|"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("chrF2|nrefs:1|case:lc|"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("not comparable"), std::string::npos) << r.err;
}

TEST_F(ScoreCommandTest, MissingFileIsNamed) {
  const Result r =
      run("--hyp '" + (dir_ / "missing.txt").string() + "' --ref '" + ref_.string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.txt: no such file"), std::string::npos) << r.err;
}

TEST_F(ScoreCommandTest, LineCountMismatchNamesBothFiles) {
  const fs::path short_ref = write("short.txt", "The dog bit the man.\n");
  const Result r = run("--hyp '" + hyp_.string() + "' --ref '" + short_ref.string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("hypotheses " + hyp_.string() + " have 3 lines but references " +
                       short_ref.string() + " have 1"),
            std::string::npos)
      << r.err;
}

TEST_F(ScoreCommandTest, UnknownTokenizerIsAUsageError) {
  const Result r = run(files() + " --tokenize intl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--tokenize"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace qkv
