// `qkv attention` (app/cmd_attention.cpp), run in-process on a run directory trained here for a
// few steps: it writes the documented layout for translated and teacher-forced sentences,
// reads --input files line by line, prints one Pharaoh line per sentence with --align, and
// names the flag or file in its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "app/export/probe_attention.h"
#include "tests/app/export/export_test_util.h"
#include "train/experiment_config.h"
#include "train/trainer.h"

namespace qkv {
void add_attention_command(CLI::App& app);  // app/cmd_attention.cpp
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Runs `qkv attention ARGS...` in this process; returns what it printed on stdout.
std::string run_attention(const std::vector<std::string>& args) {
  CLI::App app{"qkv"};
  add_attention_command(app);
  app.require_subcommand(1);
  std::vector<std::string> words = {"qkv", "attention"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  ::testing::internal::CaptureStdout();
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (...) {
    ::testing::internal::GetCapturedStdout();
    throw;
  }
  return ::testing::internal::GetCapturedStdout();
}

class AttentionCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    torch::set_num_threads(1);
    spdlog::set_level(spdlog::level::warn);
    dir_ = new fs::path(test::fresh_dir("command"));
    const std::string data = std::string(QKV_FIXTURES_DIR) + "/data/";
    const std::vector<std::string> overrides = {
        "data.corpus=files",
        "data.train_source=" + data + "small.en",
        "data.train_target=" + data + "small.de",
        "data.valid_source=" + data + "small.en",
        "data.valid_target=" + data + "small.de",
        "data.prepared_dir=" + (*dir_ / "prepared").string(),
        "data.vocab_size=100",
        "model.d_model=32",
        "model.num_heads=2",
        "model.d_ff=64",
        "model.encoder_layers=1",
        "model.decoder_layers=2",
        "train.max_steps=4",
        "train.validate_every=4",
        "train.valid_max_sentences=2",
        "train.max_tokens=400",
        "train.warmup_steps=2",
    };
    train_model(parse_experiment_config("{}", "test", overrides), {*dir_ / "run", false});
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static fs::path run() { return *dir_ / "run"; }
  static fs::path out(const std::string& name) { return *dir_ / name; }

  static fs::path* dir_;
};
fs::path* AttentionCommandTest::dir_ = nullptr;

TEST_F(AttentionCommandTest, WritesEveryFormatForTranslatedSentences) {
  run_attention({"--model",
                 run().string(),
                 "--out",
                 out("translated").string(),
                 "--vectors",
                 "--beam",
                 "2",
                 "The house is big.",
                 "My sister reads a book."});
  EXPECT_TRUE(fs::is_regular_file(out("translated") / "index.html"));
  for (const char* i : {"0", "1"}) {
    const fs::path dir = out("translated") / i;
    EXPECT_TRUE(fs::is_regular_file(dir / "attention.json"));
    EXPECT_TRUE(fs::is_regular_file(dir / "npy" / "decoder.1.cross_attn.weights.npy"));
    EXPECT_TRUE(fs::is_regular_file(dir / "npy" / "encoder.0.self_attn.query.npy"));
    EXPECT_TRUE(fs::is_regular_file(dir / "png" / "decoder.0.self_attn.png"));
    EXPECT_TRUE(fs::is_regular_file(dir / "png" / "decoder.0.self_attn.mean.png"));
  }
  const auto doc =
      nlohmann::json::parse(test::read_file(out("translated") / "1" / "attention.json"));
  EXPECT_EQ(doc["source"]["text"], "My sister reads a book.");
  EXPECT_EQ(doc["target"]["forced"], false);
  EXPECT_EQ(doc["sites"].size(), 1u + 2u * 2u);
}

TEST_F(AttentionCommandTest, TargetsAreTeacherForced) {
  run_attention({"--model",
                 run().string(),
                 "--out",
                 out("forced").string(),
                 "--format",
                 "json",
                 "--target",
                 "Das Haus ist groß.",
                 "The house is big."});
  const auto doc = nlohmann::json::parse(test::read_file(out("forced") / "0" / "attention.json"));
  EXPECT_EQ(doc["target"]["forced"], true);
  EXPECT_EQ(doc["target"]["text"], "Das Haus ist groß.");
  EXPECT_EQ(doc["target"]["tokens"][0], "<s>");
  EXPECT_FALSE(doc["sites"][0].contains("query"));
  EXPECT_FALSE(fs::exists(out("forced") / "index.html"));
  EXPECT_FALSE(fs::exists(out("forced") / "0" / "png"));
}

// --heads-off: attention.json names the switched-off heads (their outputs are zeros), and the
// explorer page labels them switched off and passes its self-test in headless Chromium (which
// recomputes every head output: a switched-off head's zeros must not count as a mismatch).
TEST_F(AttentionCommandTest, HeadsOffIsRecordedAndTheExplorerSaysSo) {
  const std::vector<std::string> args = {"--model",
                                         run().string(),
                                         "--format",
                                         "json,html",
                                         "--vectors",
                                         "--target",
                                         "Das Haus ist groß.",
                                         "The house is big."};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), args.begin(), args.end());
    return extra;
  };
  run_attention(with({"--out", out("heads_on").string()}));
  run_attention(with({"--out",
                      out("heads_off").string(),
                      "--heads-off",
                      "decoder.1.cross_attn:0;encoder.0.self_attn:1"}));
  const std::string on_text = test::read_file(out("heads_on") / "0" / "attention.json");
  EXPECT_EQ(on_text.find("heads_off"), std::string::npos);
  const auto off =
      nlohmann::json::parse(test::read_file(out("heads_off") / "0" / "attention.json"));
  EXPECT_EQ(off["heads_off"],
            nlohmann::json::parse(R"({"decoder.1.cross_attn": [0], "encoder.0.self_attn": [1]})"));
  for (const auto& site : off["sites"]) {  // the recorded outputs of those heads are zeros
    if (site["site"] != "decoder.1.cross_attn") continue;
    const auto output = torch::tensor(site["output"][0][0].get<std::vector<float>>());
    EXPECT_TRUE(torch::all(output == 0).item<bool>()) << output;
    EXPECT_FALSE(torch::all(torch::tensor(site["output"][1][0].get<std::vector<float>>()) == 0)
                     .item<bool>());
  }

  // The page opens on the last decoder layer's cross-attention, head 0: the switched-off one.
  const size_t steps = probe_attention_files(run() / "attention").size();  // its timeline
  const auto [code, output] =
      test::check_explorer((out("heads_off") / "index.html").string() + " 2 1 2 " +
                           std::to_string(steps) + " '' head0-off");
  if (code == 77) GTEST_SKIP() << output;
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("PASS"), std::string::npos) << output;
}

TEST_F(AttentionCommandTest, AlignPrintsOnePharaohLinePerSentence) {
  const std::string printed = run_attention({"--model",
                                             run().string(),
                                             "--align",
                                             "--align-layer",
                                             "0",
                                             "--target",
                                             "Das Haus ist groß.",
                                             "--target",
                                             "Der Garten ist grün.",
                                             "The house is big.",
                                             "The garden is green."});
  const std::regex pharaoh(R"((\d+-\d+( \d+-\d+)*)?)");
  std::stringstream lines(printed);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_TRUE(std::regex_match(line, pharaoh)) << line;
    // Four target words: every target word 0..3 is aligned to something.
    for (int word = 0; word < 4; ++word) {
      EXPECT_THAT(line, HasSubstr("-" + std::to_string(word))) << line;
    }
  }
  EXPECT_EQ(count, 2) << printed;
}

TEST_F(AttentionCommandTest, ShowPrintsTheCrossAttentionTableOfTheChosenLayer) {
  const std::string last = run_attention(
      {"--model", run().string(), "--show", "--target", "Das Haus ist groß.", "The house is big."});
  EXPECT_THAT(last, HasSubstr("The house is big.\n  -> Das Haus ist groß.\n"));
  // The default layer is the model's last of its 2 decoder layers.
  EXPECT_THAT(last,
              HasSubstr("cross-attention of decoder.1.cross_attn (decoder layers 0-1), mean of 2"));
  EXPECT_THAT(last, HasSubstr("<s>"));

  const std::string first = run_attention({"--model",
                                           run().string(),
                                           "--show",
                                           "--align-layer",
                                           "0",
                                           "--target",
                                           "Das Haus ist groß.",
                                           "The house is big."});
  EXPECT_THAT(first, HasSubstr("of decoder.0.cross_attn (decoder layers 0-1)"));
  EXPECT_NE(first, last);
}

TEST_F(AttentionCommandTest, InputAddsEveryNonEmptyLineAfterTheArguments) {
  // A byte-order mark, an empty line and Windows line ends, as an editor may leave them.
  std::ofstream(out("input.en"), std::ios::binary)
      << "\xEF\xBB\xBFThe garden is green.\r\n\r\nMy sister reads a book.\r\n";
  run_attention({"--model",
                 run().string(),
                 "--out",
                 out("input").string(),
                 "--format",
                 "json",
                 "--input",
                 out("input.en").string(),
                 "The house is big."});
  const std::vector<std::string> expected = {
      "The house is big.", "The garden is green.", "My sister reads a book."};
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto doc =
        nlohmann::json::parse(test::read_file(out("input") / std::to_string(i) / "attention.json"));
    EXPECT_EQ(doc["source"]["text"], expected[i]) << i;
  }
  EXPECT_FALSE(fs::exists(out("input") / "3"));
}

TEST_F(AttentionCommandTest, ErrorsNameTheFlag) {
  auto message = [&](const std::vector<std::string>& args) {
    try {
      run_attention(args);
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  const std::string model = run().string();
  EXPECT_THAT(message({"--model", model, "--out", out("x").string()}), HasSubstr("SENTENCE"));
  EXPECT_THAT(message({"--model", model, "Hello."}), HasSubstr("--out"));
  EXPECT_THAT(message({"--model", model, "--out", out("x").string(), "--target", "a", "b", "c"}),
              HasSubstr("--target: given 1 times for 2 sentences"));
  EXPECT_THAT(message({"--model", model, "--out", out("x").string(), "--format", "gif", "a"}),
              HasSubstr("--format: 'gif'"));
  EXPECT_THAT(message({"--model", model, "--align", "--align-layer", "5", "a"}),
              HasSubstr("alignment layer 5"));
  EXPECT_THAT(message({"--model", (*dir_ / "nothing").string(), "--align", "a"}),
              HasSubstr("nothing"));
  EXPECT_THAT(message({"--model", model, "--align", "--input", out("missing.en").string()}),
              HasSubstr(out("missing.en").string()));
}

}  // namespace
}  // namespace qkv
